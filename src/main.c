#include <stdio.h>
int main(void) { puts("qtune " QTUNE_VERSION); return 0; }
