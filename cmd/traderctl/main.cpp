// traderctl: command line for people. See `traderctl help`.
#include "tooling/ctl.hpp"

int main(int argc, char** argv) { return services::run_ctl(argc, argv); }
