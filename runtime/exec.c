/* SPDX-License-Identifier: MIT */
/* exec.c: run a new process in a live container (placeholder). */
#include "internal.h"
