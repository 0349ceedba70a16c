"""Plant physics: the utility, the home, the EV battery, the inverter and the contactors."""
