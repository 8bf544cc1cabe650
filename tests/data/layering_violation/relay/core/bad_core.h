#pragma once
#include "relay/upstream/upstream.h"
#include "storage/binlog_store.h"
