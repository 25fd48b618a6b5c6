// traderctl: command line for people. See `traderctl help`.
#include "services/ctl.hpp"

int main(int argc, char** argv) { return services::run_ctl(argc, argv); }
