#pragma once
#include "common/result.h"
#include "relay/core/config.h"
