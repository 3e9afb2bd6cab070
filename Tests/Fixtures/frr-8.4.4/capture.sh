#!/bin/bash
# Two FRR leaves (hv2, hv3) with VNIs 1000 and 2000 through an FRR route reflector; capture FRR 8.4's shows.
set -e
P=vxshc
D=${WORK:-/tmp/frr-capture}
OUT=$(dirname "$0")
cleanup() {
  for f in $D/*/frr/*.pid; do [ -f "$f" ] && kill $(cat $f) 2>/dev/null || true; done
  sleep 1
  for n in ul rr hv2 hv3 vm21 vm22 vm31 vm32; do ip netns del $P-$n 2>/dev/null || true; done
}
if [ "$1" = "clean" ]; then cleanup; exit 0; fi
cleanup
rm -rf $D; mkdir -p $D $OUT
ip netns add $P-ul
ip -n $P-ul link add br0 type bridge; ip -n $P-ul link set br0 mtu 1600 up
node() { # name host
  ip netns add $P-$1
  ip link add ul0 netns $P-$1 type veth peer name $1 netns $P-ul
  ip -n $P-$1 link set ul0 mtu 1600 up; ip -n $P-$1 link set lo up
  ip -n $P-ul link set $1 mtu 1600 master br0 up
  ip -n $P-$1 addr add 198.18.0.$2/24 dev ul0
}
kvni() { # node host vni
  ip -n $P-$1 link add br$3 type bridge
  ip -n $P-$1 link add vx$3 type vxlan id $3 local 198.18.0.$2 dstport 4789 dev ul0 nolearning
  ip -n $P-$1 link set vx$3 mtu 1500 master br$3 up
  ip -n $P-$1 link set vx$3 type bridge_slave learning off neigh_suppress off
  ip -n $P-$1 link set br$3 up
}
vm() { # name node vni addr
  ip netns add $P-$1
  ip link add eth0 netns $P-$1 type veth peer name tap${1#vm} netns $P-$2
  ip -n $P-$1 link set eth0 up; ip -n $P-$1 link set lo up
  ip -n $P-$1 addr add $4/24 dev eth0
  ip -n $P-$2 link set tap${1#vm} master br$3 up
}
frr() { # node host config-kind peers...
  local n=$1 h=$2 kind=$3; shift 3
  local dir=$D/$n/frr; mkdir -p $dir
  echo "hostname $n" > $dir/zebra.conf
  {
    echo "hostname $n"; echo "log file $dir/bgpd.log"
    echo "router bgp 65000"; echo " bgp router-id 198.18.0.$h"
    [ $kind = rr ] && echo " bgp cluster-id 198.18.0.$h"
    echo " no bgp default ipv4-unicast"
    for p in "$@"; do echo " neighbor $p remote-as 65000"; echo " neighbor $p timers 3 9"; echo " neighbor $p timers connect 1"; done
    echo " address-family l2vpn evpn"
    for p in "$@"; do echo "  neighbor $p activate"; [ $kind = rr ] && echo "  neighbor $p route-reflector-client"; done
    [ $kind = leaf ] && echo "  advertise-all-vni"
    echo " exit-address-family"
  } > $dir/bgpd.conf
  chown -R frr:frr $dir
  local common="-z $dir/zserv.api --vty_socket $dir -u frr -g frr"
  ip netns exec $P-$n /usr/lib/frr/zebra -d -i $dir/zebra.pid -f $dir/zebra.conf $common
  sleep 1
  ip netns exec $P-$n /usr/lib/frr/bgpd -d -i $dir/bgpd.pid -f $dir/bgpd.conf $common
}
node rr 254; node hv2 2; node hv3 3
for v in 1000 2000; do kvni hv2 2 $v; kvni hv3 3 $v; done
vm vm21 hv2 1000 198.19.10.21; vm vm22 hv2 2000 198.19.20.22
vm vm31 hv3 1000 198.19.10.31; vm vm32 hv3 2000 198.19.20.32
frr rr 254 rr 198.18.0.2 198.18.0.3
frr hv2 2 leaf 198.18.0.254
frr hv3 3 leaf 198.18.0.254
sleep 8
ip netns exec $P-vm21 ping -c 2 -i 0.2 198.19.10.31 || true
ip netns exec $P-vm22 ping -c 2 -i 0.2 198.19.20.32 || true
# SVI addresses so zebra learns the VMs' IPs (MAC/IP routes); a peer that never answers.
ip -n $P-hv2 addr add 198.19.10.2/24 dev br1000; ip -n $P-hv3 addr add 198.19.10.3/24 dev br1000
ip netns exec $P-vm21 ping -c1 198.19.10.2 >/dev/null; ip netns exec $P-vm31 ping -c1 198.19.10.3 >/dev/null
V="vtysh --vty_socket $D/hv2/frr"
ip netns exec $P-hv2 $V -c "conf t" -c "router bgp 65000" -c "neighbor 198.18.0.99 remote-as 65000" \
  -c "address-family l2vpn evpn" -c "neighbor 198.18.0.99 activate" >/dev/null
sleep 4
cap() { ip netns exec $P-hv2 $V -c "$1 json" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=1))' > $OUT/$2.json
        ip netns exec $P-hv2 $V -c "$1" > $OUT/$2.txt; }
cap "show evpn mac vni all" evpn-mac-vni-all; cap "show evpn mac vni 1000" evpn-mac-vni
cap "show evpn vni" evpn-vni; cap "show evpn vni 1000" evpn-vni-detail
cap "show bgp l2vpn evpn summary" bgp-l2vpn-evpn-summary; cap "show bgp summary" bgp-summary
cap "show bgp l2vpn evpn route" bgp-l2vpn-evpn-route; cap "show bgp l2vpn evpn route vni 1000" bgp-l2vpn-evpn-route-vni
cap "show bgp l2vpn evpn route type macip" bgp-l2vpn-evpn-route-type-macip
cap "show bgp l2vpn evpn route type multicast" bgp-l2vpn-evpn-route-type-multicast
cap "show evpn arp-cache vni 1000" evpn-arp-cache-vni
cleanup
