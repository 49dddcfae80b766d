/* cmd_track.h: `copydesk track`, feeds fetched and their new items matched
 * against a persistent index, one JSON event per item (cmd_track.c). */
#ifndef CD_CLI_CMD_TRACK_H
#define CD_CLI_CMD_TRACK_H

/* argv[0] is "track"; returns an exit code. */
int cli_track(int argc, char **argv);

#endif
