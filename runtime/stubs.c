/* Temporary stand-ins until cgroup.c and the security module land. */
