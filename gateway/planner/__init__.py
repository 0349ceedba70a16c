"""The home energy planner: tariffs, PV, departure plans and battery wear as one optimised plan."""
