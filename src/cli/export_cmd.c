/* export_cmd.c: `outbox export msmtprc`: the servers and accounts written as msmtp's configuration
 * (and, when asked, the aliases as its aliases file), so going back to msmtp costs nothing. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

static const char export_help[] =
	"Usage: outbox export msmtprc [--output FILE] [--aliases FILE]\n"
	"\n"
	"Write the servers and accounts as an msmtp configuration: one msmtp account per\n"
	"server, named after it, with its first account's address as `from`, an account\n"
	"inheriting it for each further address, and `account default` for the default.\n"
	"Password commands are written as passwordeval; a password in the secret store is\n"
	"never written (a comment says where it is).\n"
	"\n"
	"Options:\n"
	"  --output FILE    write to FILE (created 0600; an existing file is not replaced)\n"
	"                   instead of standard output\n"
	"  --aliases FILE   also write the aliases as msmtp's aliases file FILE (created,\n"
	"                   not replaced) and name it in the configuration's defaults\n";

/* Create `path` (never replacing a file) with `text`; 0 or an exit status, the reason printed. */
static int export_write(const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "outbox: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? "; choose another name or remove it first" : "");
		return errno == EEXIST ? EX_CANTCREAT : EX_IOERR;
	}
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "outbox: writing %s: %s\n", path, strerror(errno));
			close(fd);
			unlink(path);
			return EX_IOERR;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fprintf(stderr, "outbox: writing %s: %s\n", path, strerror(errno));
		unlink(path);
		return EX_IOERR;
	}
	return 0;
}

int cmd_export(int argc, char **argv)
{
	enum { OPT_OUTPUT = 1, OPT_ALIASES };
	static const struct option opts[] = {{"output", required_argument, NULL, OPT_OUTPUT},
					     {"aliases", required_argument, NULL, OPT_ALIASES},
					     {NULL, 0, NULL, 0}};
	const char *output = NULL, *aliases = NULL;
	char *config = NULL, *alias_text = NULL;
	outbox *h = NULL;
	int c, rc;

	if (cli_wants_help(argc, argv)) {
		fputs(export_help, stdout);
		return 0;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUTPUT: output = optarg; break;
		case OPT_ALIASES: aliases = optarg; break;
		case ':': return cli_usage("export", "%s needs a file name", argv[optind - 1]);
		default: return cli_usage("export", "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage("export", "export needs what to write: outbox export msmtprc");
	if (strcmp(argv[optind], "msmtprc") != 0)
		return cli_usage("export", "cannot export \"%s\": outbox exports msmtprc", argv[optind]);
	if (argc - optind > 1)
		return cli_usage("export", "export msmtprc takes no file argument: use --output FILE");
	if ((output && *output == '\0') || (aliases && *aliases == '\0'))
		return cli_usage("export", "a file name is empty");
	if ((rc = cli_open_to_read(&h)) != 0)
		return rc;
	if ((rc = outbox_msmtp_export(h, aliases, &config)) < 0 ||
	    (aliases && (rc = outbox_msmtp_export_aliases(h, &alias_text)) < 0)) {
		rc = cli_fail(h, rc);
		goto done;
	}
	if (aliases && (rc = export_write(aliases, alias_text)) != 0)
		goto done;
	if (output)
		rc = export_write(output, config);
	else if (fputs(config, stdout) == EOF || fflush(stdout) == EOF)
		rc = EX_IOERR;
	if (rc != 0 && aliases)
		unlink(aliases); /* the configuration that names it was not written */
done:
	free(config);
	free(alias_text);
	outbox_close(h);
	return rc;
}
