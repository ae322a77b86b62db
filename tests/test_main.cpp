// Catch2 main for every Medallion suite.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
