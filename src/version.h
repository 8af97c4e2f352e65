/* version.h - the version every program and verdict reports. */
#ifndef CUSTOS_VERSION_H
#define CUSTOS_VERSION_H
#include "config.h"
#define CUSTOS_VERSION	PACKAGE_VERSION
#endif
