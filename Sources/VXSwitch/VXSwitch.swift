// The daemon: wiring of datapath, tables, EVPN, control socket and metrics; show models.
