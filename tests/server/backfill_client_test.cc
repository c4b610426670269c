#include <gtest/gtest.h>

#include "server/server.h"
TEST(Placeholder, Builds) {}
