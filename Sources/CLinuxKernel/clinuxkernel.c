#include "clinuxkernel.h"
