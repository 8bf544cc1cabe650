#include <relay/app/daemon.h>
#include "relay/core/../app/cli.h"
#include "relay/core/config.h"
#include "storage/binlog_store.h"
#include "storage/store_internals.h"
