#include <iostream>

#include "relay/app/cli.h"

int main(int argc, char** argv) {
  return brelay::relay::run_cli(argc, argv, std::cout, std::cerr);
}
