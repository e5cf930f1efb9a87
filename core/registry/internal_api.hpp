// Marks the core's C++ classes and functions that in-tree users outside libdq-core (the dq
// tool, tests, conformance) may call. libdq-core hides everything else.
#pragma once

#define DQ_INTERNAL_API __attribute__((visibility("default")))
