// The daemon: config, wiring, control socket, metrics, lab.
