"""OCPP 2.0.1 (with the 2.1 V2X use cases) charging-station client for a CSMS or aggregator."""
