/* SPDX-License-Identifier: MIT */
/* bundle.c: the store's side of an OCI runtime bundle made from an image: the
 * image's command, dir/rootfs (an overlay with dir/upper and dir/work, or a
 * flattened copy) and its removal. The bundle's config.json is not the
 * store's: `fcstart image bundle` (cmd-image.c) builds it from the image's
 * config over libfcrt's default spec. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "snap-private.h"

char **fcsnap_image_args(const struct fcsnap_image *img)
{
	size_t ne = fc_strv_len(img->config.entrypoint), nc = fc_strv_len(img->config.cmd);
	char **v = fc_calloc(ne + nc + 1, sizeof(char *));
	for (size_t i = 0; i < ne; i++)
		v[i] = fc_strdup(img->config.entrypoint[i]);
	for (size_t i = 0; i < nc; i++)
		v[ne + i] = fc_strdup(img->config.cmd[i]);
	return v;
}

int fcsnap_bundle_rootfs(const struct fcsnap_image *img, const char *dir, bool copy,
                         struct fc_error **err)
{
	int r = fc_mkdir_p_at(AT_FDCWD, dir, 0711, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", dir);
	_cleanup_free_ char *upper = fc_asprintf("%s/upper", dir);
	_cleanup_free_ char *work = fc_asprintf("%s/work", dir);
	struct stat st;
	if (stat(rootfs, &st) == 0)
		return fc_error_set(err, EEXIST, "bundle `%s` already has a rootfs", dir);
	if (copy) {
		r = fcsnap_copy_rootfs(img, rootfs, err);
		if (r < 0)
			fc_rm_rf_at(AT_FDCWD, rootfs, NULL);
	} else {
		r = fcsnap_mount_rootfs(img, rootfs, upper, work, err);
		if (r < 0) {
			rmdir(rootfs);
			fc_rm_rf_at(AT_FDCWD, upper, NULL);
			fc_rm_rf_at(AT_FDCWD, work, NULL);
		}
	}
	return r;
}

int fcsnap_unbundle(const char *dir, struct fc_error **err)
{
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", dir);
	_cleanup_free_ char *upper = fc_asprintf("%s/upper", dir);
	_cleanup_free_ char *work = fc_asprintf("%s/work", dir);
	_cleanup_free_ char *cfg = fc_asprintf("%s/config.json", dir);
	struct stat st, pst;
	_cleanup_free_ char *parent = fc_asprintf("%s/..", rootfs);
	if (stat(rootfs, &st) < 0)
		return fc_error_set(err, errno, "bundle `%s`: rootfs", dir);
	/* a mount point has another device than its parent (or is listed busy) */
	if (stat(dir, &pst) == 0 && (st.st_dev != pst.st_dev)) {
		if (fcsnap_unmount_rootfs(rootfs, err) < 0)
			return fc_error_code(*err);
	} else if (umount2(rootfs, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) {
		return fc_error_set(err, errno, "unmount `%s`", rootfs);
	}
	if (fc_rm_rf_at(AT_FDCWD, rootfs, err) < 0 || fc_rm_rf_at(AT_FDCWD, upper, err) < 0 ||
	    fc_rm_rf_at(AT_FDCWD, work, err) < 0)
		return fc_error_wrap(err, "bundle `%s`", dir);
	unlink(cfg);
	return 0;
}
