#include <stdio.h>
double loss_grad(double w, double x, double b, double t, double grad[2]);
int main(void)
{
    double grad[2];
    double f = loss_grad(0.5, 1.5, 0.1, 1.0, grad);
    printf("%.17g %.17g %.17g\n", f, grad[0], grad[1]);
    return 0;
}
