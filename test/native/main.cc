#include "check.h"

int main() { return dgtest::run_all(); }
