// SPDX-License-Identifier: BSD-2-Clause
/* BPF_PROG_RUN driver for the shim differential (test/bpf/): loads build/xdplab_shim.o,
 * reads a line script of map states and frames on stdin, runs each frame through
 * bpf_prog_test_run_opts with an xdp_md context (ingress_ifindex, rx_queue_index) and
 * prints one result line per frame: XDP action, metadata bytes, per-reason counter
 * deltas and the ring buffer event. Must run in the network namespace that holds the
 * ifindexes the script names (the kernel resolves ctx ingress_ifindex there).
 *
 * Script (one command per line, numbers decimal, bytes hex):
 *   ctl ENABLED ABI CFG_GEN FIB_GEN HB_AGE_NS HB_TIMEOUT_NS STRICT FALLBACK_MODE TX_MODE BUGS
 *   clear                                  empty every map but ctrl and the counters
 *   bind IFINDEX QUEUE SLOT READY
 *   local FAMILY ADDRHEX | ifnat FAMILY ADDRHEX
 *   sess PROTO SRCHEX DSTHEX SPORT DPORT   (addresses as 16 bytes hex)
 *   unsess PROTO SRCHEX DSTHEX SPORT DPORT delete that key (absent is not an error)
 *   dnat IFINDEX PROTO FAMILY ADDRHEX PORT|any
 *   xsk SLOT                               put an AF_XDP socket (RX ring, unbound) in the slot
 *   devmap SLOT IFINDEX
 *   pkt IFINDEX QUEUE FRAMEHEX
 *   sync                                   prints "sync" (a barrier for a streaming client)
 * Output per pkt: "res RETVAL METAHEX|- COUNTERS|- EVENT|-" with COUNTERS as
 * slot:delta,... and EVENT as verdict,reason,ifindex,queue,flags,ipver,proto,ip_id,
 * flow_label,sport,dport,tcp_seq,payload_hash,pkt_len,slot. Errors: "err LINE MESSAGE". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdplab_consts.h"
#include "xdplab_structs.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static int ncpu;
static int fd_ctrl, fd_bind, fd_xsks, fd_sess, fd_local, fd_ifnat, fd_dnat, fd_cnt, fd_devmap, prog_fd;
static struct xdplab_event last_ev;
static int have_ev;
static int xsk_fds[XDPLAB_XSKMAP_SIZE];

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len >= sizeof(last_ev)) {
		memcpy(&last_ev, data, sizeof(last_ev));
		have_ev++;
	}
	return 0;
}

static int hexbytes(const char *s, __u8 *out, int max)
{
	int n = 0;

	while (s[0] && s[1] && n < max) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = v;
		s += 2;
	}
	return n;
}

static void read_counters(__u64 *sum)
{
	__u64 vals[ncpu];
	__u32 k;

	for (k = 0; k < XDPLAB_REASON_SLOTS; k++) {
		sum[k] = 0;
		if (bpf_map_lookup_elem(fd_cnt, &k, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				sum[k] += vals[c];
	}
}

static void clear_map(int fd, size_t key_size)
{
	char key[64], next[64];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int xsk_socket_fd(void)
{
	int fd = socket(AF_XDP, SOCK_RAW, 0), n = 64;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int run_pkt(struct ring_buffer *rb, unsigned ifindex, unsigned queue, const char *hex)
{
	static __u8 in[4096], out[4096 + 256];
	static __u64 before[XDPLAB_REASON_SLOTS], after[XDPLAB_REASON_SLOTS];
	struct xdp_md ctx_in = {}, ctx_out = {};
	int len = hexbytes(hex, in, sizeof(in)), err, first = 1;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (len < 0)
		return -EINVAL;
	ctx_in.data_end = len;
	ctx_in.ingress_ifindex = ifindex;
	ctx_in.rx_queue_index = queue;
	opts.data_in = in;
	opts.data_size_in = len;
	opts.data_out = out;
	opts.data_size_out = sizeof(out);
	opts.ctx_in = &ctx_in;
	opts.ctx_size_in = sizeof(ctx_in);
	opts.ctx_out = &ctx_out;
	opts.ctx_size_out = sizeof(ctx_out);
	opts.repeat = 1;
	read_counters(before);
	ring_buffer__consume(rb);
	have_ev = 0;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return err;
	read_counters(after);
	ring_buffer__consume(rb);
	printf("res %u ", opts.retval);
	if (ctx_out.data == 0) {
		printf("-");
	} else {
		for (__u32 i = 0; i < ctx_out.data && i < opts.data_size_out; i++)
			printf("%02x", out[i]);
	}
	printf(" ");
	for (int k = 0; k < XDPLAB_REASON_SLOTS; k++) {
		if (after[k] != before[k]) {
			printf("%s%d:%llu", first ? "" : ",", k, (unsigned long long)(after[k] - before[k]));
			first = 0;
		}
	}
	if (first)
		printf("-");
	if (have_ev == 1) {
		struct xdplab_event *e = &last_ev;
		printf(" %u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%d\n", e->verdict, e->reason, e->ifindex, e->queue,
		       e->flags, e->ip_version, e->ip_proto, e->ip_id, e->flow_label, e->src_port, e->dst_port,
		       e->tcp_seq, e->payload_hash, e->pkt_len, (int)e->slot);
	} else {
		printf(" %s\n", have_ev ? "many" : "-");
	}
	return 0;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ring_buffer *rb;
	char line[20000];
	int lineno = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: prog_run SHIM.o < script\n");
		return 2;
	}
	libbpf_set_print(NULL);
	ncpu = libbpf_num_possible_cpus();
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "prog_run: cannot load %s: %s\n", argv[1], strerror(errno));
		return 3;
	}
	prog = bpf_object__find_program_by_name(obj, "xdplab_shim");
	prog_fd = bpf_program__fd(prog);
	fd_ctrl = map_fd(obj, "ctrl");
	fd_bind = map_fd(obj, "bindings");
	fd_xsks = map_fd(obj, "xsks");
	fd_sess = map_fd(obj, "sessions");
	fd_local = map_fd(obj, "local_addrs");
	fd_ifnat = map_fd(obj, "ifnat_addrs");
	fd_dnat = map_fd(obj, "dnat_rules");
	fd_cnt = map_fd(obj, "reason_counters");
	fd_devmap = map_fd(obj, "tx_devmap");
	rb = ring_buffer__new(map_fd(obj, "events"), on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "prog_run: ring buffer: %s\n", strerror(errno));
		return 3;
	}
	for (int i = 0; i < XDPLAB_XSKMAP_SIZE; i++)
		xsk_fds[i] = -1;
	printf("ready ncpu=%d\n", ncpu);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[16] = "", a[8][2100];
		int n, err = 0;

		lineno++;
		n = sscanf(line, "%15s %2099s %2099s %2099s %2099s %2099s %2099s %2099s %2099s", cmd, a[0], a[1], a[2], a[3],
			   a[4], a[5], a[6], a[7]);
		(void)n;
		if (!strcmp(cmd, "ctl")) {
			struct xdplab_ctrl c = {};
			unsigned long long age, to;
			__u32 zero = 0;
			if (sscanf(line, "ctl %u %u %u %u %llu %llu %u %u %u %u", &c.enabled, &c.abi_version, &c.config_gen,
				   &c.fib_gen, &age, &to, &c.strict, &c.fallback_mode, &c.tx_mode, &c.bugs) != 10) {
				err = -EINVAL;
			} else {
				c.heartbeat_ns = now_ns() - age;
				c.heartbeat_timeout_ns = to;
				err = bpf_map_update_elem(fd_ctrl, &zero, &c, 0);
			}
		} else if (!strcmp(cmd, "clear")) {
			clear_map(fd_bind, sizeof(struct xdplab_binding_key));
			clear_map(fd_sess, sizeof(struct xdplab_session_key));
			clear_map(fd_local, sizeof(struct xdplab_addr_key));
			clear_map(fd_ifnat, sizeof(struct xdplab_addr_key));
			clear_map(fd_dnat, sizeof(struct xdplab_dnat_key));
			for (__u32 i = 0; i < XDPLAB_XSKMAP_SIZE; i++) {
				if (xsk_fds[i] >= 0) {
					bpf_map_delete_elem(fd_xsks, &i);
					close(xsk_fds[i]);
					xsk_fds[i] = -1;
				}
			}
		} else if (!strcmp(cmd, "bind")) {
			struct xdplab_binding_key k = {};
			struct xdplab_binding v = {};
			k.ifindex = strtoul(a[0], NULL, 10);
			k.queue = strtoul(a[1], NULL, 10);
			v.slot = strtoul(a[2], NULL, 10);
			v.ready = strtoul(a[3], NULL, 10);
			err = bpf_map_update_elem(fd_bind, &k, &v, 0);
		} else if (!strcmp(cmd, "local") || !strcmp(cmd, "ifnat")) {
			struct xdplab_addr_key k = {};
			__u32 one = 1;
			k.family = strtoul(a[0], NULL, 10);
			if (hexbytes(a[1], k.addr, 16) < 0)
				err = -EINVAL;
			else
				err = bpf_map_update_elem(cmd[0] == 'l' ? fd_local : fd_ifnat, &k, &one, 0);
		} else if (!strcmp(cmd, "sess") || !strcmp(cmd, "unsess")) {
			struct xdplab_session_key k = {};
			__u32 one = 1;
			k.proto = strtoul(a[0], NULL, 10);
			hexbytes(a[1], k.src, 16);
			hexbytes(a[2], k.dst, 16);
			k.src_port = htons(strtoul(a[3], NULL, 10));
			k.dst_port = htons(strtoul(a[4], NULL, 10));
			if (cmd[0] == 's')
				err = bpf_map_update_elem(fd_sess, &k, &one, 0);
			else if (bpf_map_delete_elem(fd_sess, &k) && errno != ENOENT)
				err = -errno;
		} else if (!strcmp(cmd, "dnat")) {
			struct xdplab_dnat_key k = {};
			__u32 one = 1;
			k.ifindex = strtoul(a[0], NULL, 10);
			k.proto = strtoul(a[1], NULL, 10);
			k.family = strtoul(a[2], NULL, 10);
			hexbytes(a[3], k.addr, 16);
			k.port = !strcmp(a[4], "any") ? XDPLAB_DNAT_ANY_PORT : strtoul(a[4], NULL, 10);
			err = bpf_map_update_elem(fd_dnat, &k, &one, 0);
		} else if (!strcmp(cmd, "xsk")) {
			__u32 slot = strtoul(a[0], NULL, 10);
			int fd;
			if (slot >= XDPLAB_XSKMAP_SIZE) {
				err = -EINVAL;
			} else if (xsk_fds[slot] < 0) {
				fd = xsk_socket_fd();
				if (fd < 0)
					err = fd;
				else if ((err = bpf_map_update_elem(fd_xsks, &slot, &fd, 0)))
					close(fd);
				else
					xsk_fds[slot] = fd;
			}
		} else if (!strcmp(cmd, "devmap")) {
			__u32 slot = strtoul(a[0], NULL, 10), ifi = strtoul(a[1], NULL, 10);
			err = bpf_map_update_elem(fd_devmap, &slot, &ifi, 0);
		} else if (!strcmp(cmd, "pkt")) {
			err = run_pkt(rb, strtoul(a[0], NULL, 10), strtoul(a[1], NULL, 10), a[2]);
		} else if (!strcmp(cmd, "sync")) {
			printf("sync\n");
		} else if (cmd[0] == 0 || cmd[0] == '#') {
			continue;
		} else {
			err = -EINVAL;
		}
		if (err) {
			printf("err %d %s: %s\n", lineno, cmd, strerror(err < 0 ? -err : errno));
		}
		fflush(stdout);
	}
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
