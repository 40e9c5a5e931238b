#ifndef ATLAS_CLMDB_SHIM_H
#define ATLAS_CLMDB_SHIM_H
#include <lmdb.h>
#endif
