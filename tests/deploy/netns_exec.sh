#!/usr/bin/env bash
# The multihost test's stand-in for ssh: runs SCRIPT "on" HOST, a network
# namespace of this machine (launch.sh --ssh=netns_exec.sh).
# usage: netns_exec.sh NETNS SCRIPT
exec ip netns exec "$1" sh -c "$2"
