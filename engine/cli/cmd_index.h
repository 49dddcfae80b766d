/* cmd_index.h: `copydesk index`, the persistent incremental index
 * (cmd_index.c). */
#ifndef CD_CLI_CMD_INDEX_H
#define CD_CLI_CMD_INDEX_H

/* argv[0] is "index"; returns an exit code. */
int cli_index(int argc, char **argv);

#endif
