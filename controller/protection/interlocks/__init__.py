"""Hardware interlock inputs: the E-stop loop, the enclosure door, the residual current monitor,
the insulation monitor and the NTC temperatures. Each monitor only observes and trips."""
