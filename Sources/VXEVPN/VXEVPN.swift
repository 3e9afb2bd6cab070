// BGP EVPN speaker: see README.md in Sources/.
