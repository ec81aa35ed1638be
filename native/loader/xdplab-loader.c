// SPDX-License-Identifier: BSD-2-Clause
/* xdplab-loader: the small libbpf front end live mode uses to put XDP programs on the
 * lab's interfaces, program their maps, read the shim's counters and read each
 * interface's XDP features over netlink. A C helper rather than bpftool/ip because both
 * `ip -n` and `ip netns exec` remount /sys in a private mount namespace, which hides
 * the bpffs under /sys/fs/bpf: here only the network namespace is entered (setns), so
 * pinned paths stay visible, and a devmap value (an ifindex) is resolved in the
 * namespace the map update runs in, as the kernel does.
 *
 *   attach     --netns NS --if IF --obj FILE --prog NAME --pin-dir DIR [--mode native|generic]
 *   map-update --netns NS --pin PATH --key HEX --value HEX
 *   counters   --pin PATH                 (per-CPU u64 array, summed)
 *   features   --netns NS                 (netdev genetlink family, all devices)
 *
 * Output is one JSON object on stdout. A failure prints
 * {"error":{"stage":…,"errno":N,"name":"EINVAL","message":…}} and exits 1 (bad usage 2). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* uapi/linux/netdev.h (kernel ≥ 6.3); Debian's 6.1 headers lack it. */
#define XL_NETDEV_CMD_DEV_GET 1
#define XL_NETDEV_A_DEV_IFINDEX 1
#define XL_NETDEV_A_DEV_XDP_FEATURES 3
#define XL_NETDEV_A_DEV_XDP_ZC_MAX_SEGS 4
#define XL_NETDEV_A_DEV_XSK_FEATURES 6

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case E2BIG: return "E2BIG";
	case EFAULT: return "EFAULT";
	case ERANGE: return "ERANGE";
	default: return "E?";
	}
}

static int fail(const char *stage, int err, const char *what)
{
	if (err < 0)
		err = -err;
	printf("{\"error\":{\"stage\":\"%s\",\"errno\":%d,\"name\":\"%s\",\"message\":\"%s: %s\"}}\n", stage, err,
	       errno_name(err), what, strerror(err));
	return 1;
}

static int usage(const char *msg)
{
	fprintf(stderr, "xdplab-loader: %s\n", msg);
	return 2;
}

static int enter_netns(const char *ns)
{
	char path[512];
	int fd, rc;

	if (!ns || !*ns)
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET);
	rc = rc < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int parse_hex(const char *s, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;

	while (*s) {
		unsigned int b;

		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (n == cap || sscanf(s, "%2x", &b) != 1 || !s[1])
			return -1;
		out[n++] = (unsigned char)b;
		s += 2;
	}
	*len = n;
	return 0;
}

struct opts {
	const char *netns, *ifname, *obj, *prog, *pin_dir, *pin, *key, *value, *mode;
};

static int cmd_attach(const struct opts *o)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[1024];
	int err, fd, ifindex;
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST;
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);

	if (!o->netns || !o->ifname || !o->obj || !o->prog || !o->pin_dir)
		return usage("attach needs --netns --if --obj --prog --pin-dir");
	flags |= (o->mode && !strcmp(o->mode, "generic")) ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (mkdir(o->pin_dir, 0700) < 0 && errno != EEXIST)
		return fail("pin-dir", errno, o->pin_dir);
	obj = bpf_object__open_file(o->obj, NULL);
	err = libbpf_get_error(obj);
	if (err)
		return fail("open", err, o->obj);
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);

		if (name[0] == '.') /* .rodata/.bss: nothing to share */
			continue;
		snprintf(path, sizeof(path), "%s/%s", o->pin_dir, name);
		bpf_map__set_pin_path(map, path);
	}
	err = bpf_object__load(obj);
	if (err)
		return fail("load", err, "loading the BPF object (run with LIBBPF_LOG for the verifier log)");
	prog = bpf_object__find_program_by_name(obj, o->prog);
	if (!prog)
		return fail("load", ENOENT, o->prog);
	fd = bpf_program__fd(prog);
	snprintf(path, sizeof(path), "%s/prog", o->pin_dir);
	err = bpf_program__pin(prog, path);
	if (err)
		return fail("pin", err, path);
	err = enter_netns(o->netns);
	if (err)
		return fail("netns", err, o->netns);
	ifindex = (int)if_nametoindex(o->ifname);
	if (!ifindex)
		return fail("ifindex", errno, o->ifname);
	err = bpf_xdp_attach(ifindex, fd, flags, NULL);
	if (err)
		return fail("attach", err, o->ifname);
	bpf_obj_get_info_by_fd(fd, &info, &info_len);
	printf("{\"ifindex\":%d,\"prog_id\":%u,\"mode\":\"%s\",\"pin_dir\":\"%s\"}\n", ifindex, info.id,
	       (flags & XDP_FLAGS_SKB_MODE) ? "generic" : "native", o->pin_dir);
	return 0;
}

static int cmd_map_update(const struct opts *o)
{
	unsigned char key[256], value[256];
	size_t klen, vlen;
	int fd, err;

	if (!o->pin || !o->key || !o->value)
		return usage("map-update needs --pin --key --value");
	if (parse_hex(o->key, key, sizeof(key), &klen) || parse_hex(o->value, value, sizeof(value), &vlen))
		return usage("--key/--value: expected hex bytes");
	fd = bpf_obj_get(o->pin);
	if (fd < 0)
		return fail("open-map", errno, o->pin);
	err = enter_netns(o->netns);
	if (err)
		return fail("netns", err, o->netns);
	if (bpf_map_update_elem(fd, key, value, BPF_ANY))
		return fail("update", errno, o->pin);
	printf("{\"ok\":true}\n");
	return 0;
}

static int cmd_counters(const struct opts *o)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), i;
	int fd, ncpu = libbpf_num_possible_cpus(), c;
	__u64 *vals;

	if (!o->pin)
		return usage("counters needs --pin");
	fd = bpf_obj_get(o->pin);
	if (fd < 0)
		return fail("open-map", errno, o->pin);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return fail("info", errno, o->pin);
	if (info.value_size != 8 || ncpu <= 0)
		return fail("info", EINVAL, "expected a per-CPU array of u64");
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return fail("alloc", ENOMEM, "counters");
	printf("{\"counters\":[");
	for (i = 0; i < info.max_entries; i++) {
		__u64 sum = 0;

		if (bpf_map_lookup_elem(fd, &i, vals) == 0)
			for (c = 0; c < ncpu; c++)
				sum += vals[c];
		printf("%s%llu", i ? "," : "", (unsigned long long)sum);
	}
	printf("]}\n");
	free(vals);
	return 0;
}

/* --- generic netlink: the "netdev" family's dev-get dump --- */

struct nlbuf {
	char b[16384];
};

static struct nlattr *nla_next_in(struct nlattr *a, int *rem)
{
	int len = NLA_ALIGN(a->nla_len);

	*rem -= len;
	return (struct nlattr *)((char *)a + len);
}

static int nl_request(int sk, __u16 type, __u16 flags, __u8 cmd, const void *attrs, int attrs_len)
{
	char buf[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh;
	static __u32 seq = 1;

	memset(buf, 0, sizeof(buf));
	nh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + attrs_len;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = seq++;
	gh = NLMSG_DATA(nh);
	gh->cmd = cmd;
	gh->version = 1;
	memcpy((char *)gh + GENL_HDRLEN, attrs, (size_t)attrs_len);
	return send(sk, buf, nh->nlmsg_len, 0) < 0 ? -errno : 0;
}

static int netdev_family(int sk)
{
	char attrs[64];
	struct nlattr *a = (struct nlattr *)attrs;
	static struct nlbuf rb;
	const char *name = "netdev";
	int n, err;

	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = NLA_HDRLEN + strlen(name) + 1;
	memcpy((char *)a + NLA_HDRLEN, name, strlen(name) + 1);
	err = nl_request(sk, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, attrs, NLA_ALIGN(a->nla_len));
	if (err)
		return err;
	n = (int)recv(sk, rb.b, sizeof(rb.b), 0);
	if (n < 0)
		return -errno;
	for (struct nlmsghdr *nh = (struct nlmsghdr *)rb.b; NLMSG_OK(nh, (unsigned)n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR)
			return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		int rem = (int)nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		for (struct nlattr *x = (struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
		     rem >= NLA_HDRLEN && x->nla_len >= NLA_HDRLEN && x->nla_len <= rem; x = nla_next_in(x, &rem))
			if (x->nla_type == CTRL_ATTR_FAMILY_ID)
				return *(__u16 *)((char *)x + NLA_HDRLEN);
	}
	return -ENOENT;
}

static int cmd_features(const struct opts *o)
{
	static struct nlbuf rb;
	int sk, fam, err, first = 1, done = 0;

	err = enter_netns(o->netns);
	if (err)
		return fail("netns", err, o->netns ? o->netns : "");
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (sk < 0)
		return fail("netlink", errno, "socket");
	fam = netdev_family(sk);
	if (fam < 0)
		return fail("netdev-family", fam, "the netdev genetlink family (kernel >= 6.3) is not available");
	err = nl_request(sk, (__u16)fam, NLM_F_DUMP, XL_NETDEV_CMD_DEV_GET, NULL, 0);
	if (err)
		return fail("netlink", err, "dev-get");
	printf("{\"devices\":[");
	while (!done) {
		int n = (int)recv(sk, rb.b, sizeof(rb.b), 0);

		if (n < 0)
			return fail("netlink", errno, "recv");
		for (struct nlmsghdr *nh = (struct nlmsghdr *)rb.b; NLMSG_OK(nh, (unsigned)n); nh = NLMSG_NEXT(nh, n)) {
			long long ifindex = -1, xdp = -1, zc = -1, xsk = -1;
			char name[IF_NAMESIZE] = "";

			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR)
				return fail("netlink", ((struct nlmsgerr *)NLMSG_DATA(nh))->error, "dev-get");
			int rem = (int)nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
			for (struct nlattr *x = (struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
			     rem >= NLA_HDRLEN && x->nla_len >= NLA_HDRLEN && x->nla_len <= rem; x = nla_next_in(x, &rem)) {
				void *p = (char *)x + NLA_HDRLEN;

				switch (x->nla_type & NLA_TYPE_MASK) {
				case XL_NETDEV_A_DEV_IFINDEX: ifindex = *(__u32 *)p; break;
				case XL_NETDEV_A_DEV_XDP_FEATURES: xdp = (long long)*(__u64 *)p; break;
				case XL_NETDEV_A_DEV_XDP_ZC_MAX_SEGS: zc = *(__u32 *)p; break;
				case XL_NETDEV_A_DEV_XSK_FEATURES: xsk = (long long)*(__u64 *)p; break;
				}
			}
			if (ifindex > 0)
				if_indextoname((unsigned)ifindex, name);
			printf("%s{\"ifindex\":%lld,\"name\":\"%s\",\"xdp_features\":%lld,\"xdp_zc_max_segs\":%lld,\"xsk_features\":%lld}",
			       first ? "" : ",", ifindex, name, xdp, zc, xsk);
			first = 0;
		}
	}
	printf("]}\n");
	close(sk);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {};

	if (argc < 2)
		return usage("usage: xdplab-loader attach|map-update|counters|features [options]");
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = !strcmp(k, "--netns") ? &o.netns : !strcmp(k, "--if") ? &o.ifname
				  : !strcmp(k, "--obj") ? &o.obj : !strcmp(k, "--prog") ? &o.prog
				  : !strcmp(k, "--pin-dir") ? &o.pin_dir : !strcmp(k, "--pin") ? &o.pin
				  : !strcmp(k, "--key") ? &o.key : !strcmp(k, "--value") ? &o.value
				  : !strcmp(k, "--mode") ? &o.mode : NULL;

		if (!slot || !v)
			return usage(slot ? "option needs a value" : "unknown option");
		*slot = v;
		i++;
	}
	libbpf_set_print(NULL);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(&o);
	if (!strcmp(argv[1], "map-update"))
		return cmd_map_update(&o);
	if (!strcmp(argv[1], "counters"))
		return cmd_counters(&o);
	if (!strcmp(argv[1], "features"))
		return cmd_features(&o);
	return usage("unknown subcommand");
}
