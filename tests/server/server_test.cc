#include "server/server.h"
#include <gtest/gtest.h>
TEST(Placeholder, Builds) {}
