/* SPDX-License-Identifier: MIT */
/* fcsnap-cmd.h: the `fcstart image` verbs (cmd-image.c, built into the fcstart
 * binary from bench/). Takes argv starting at "image"; returns the process
 * exit status. */
#ifndef FCSNAP_CMD_H
#define FCSNAP_CMD_H

int cmd_image(int argc, char **argv); /* fcstart image import|ls|inspect|rm|gc|bundle|unmount */

#endif
