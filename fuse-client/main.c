/* dnsfs-mount: mount a dnsfs zone with FUSE (see fuse-client/mount.c). */
#include "mount.h"

int main(int argc, char **argv)
{
	return mount_main(argc, argv);
}
