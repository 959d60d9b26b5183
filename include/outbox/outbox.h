/* outbox/outbox.h: the whole public API of liboutbox in one include.
 * Front ends (the outbox command, its terminal UI) use nothing else. */
#ifndef OUTBOX_OUTBOX_H
#define OUTBOX_OUTBOX_H

#include "error.h"
#include "handle.h"
#include "field.h"
#include "server.h"
#include "account.h"
#include "undo.h"
#include "send.h"
#include "serve.h"
#include "history.h"
#include "queue.h"
#include "doctor.h"
#include "process.h"
#include "setup.h"
#include "alias.h"
#include "msmtp.h"

#endif
