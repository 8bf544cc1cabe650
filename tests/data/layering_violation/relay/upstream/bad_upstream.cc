#include "relay/core/config.h"
#include "relay/downstream/dump_session.h"
