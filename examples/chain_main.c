#include <stdio.h>
double chain_grad(double x, double c, double d, double grad[3]);
int main(void)
{
    double grad[3];
    double f = chain_grad(0.01, 0.9, 0.3, grad);
    printf("%.17g %.17g %.17g %.17g\n", f, grad[0], grad[1], grad[2]);
    return 0;
}
