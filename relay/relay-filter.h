/*
 * Copyright 2026 The relay authors
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "relay-activity.h"
#include "relay-config.h"

G_BEGIN_DECLS

/**
 * RelayFilterVerdict:
 * @RELAY_FILTER_PASS: relay it
 * @RELAY_FILTER_NO_HASHTAG: the post carries none of the network's hashtags
 * @RELAY_FILTER_LANGUAGE: the post is in none of the network's languages, or gives none
 * @RELAY_FILTER_DENIED_KEYWORD: the post's text contains one of the network's denied keywords
 * @RELAY_FILTER_NO_CONTENT: the network filters, but the post is not embedded (an Announce of a
 *	bare URL, a Create by reference), so it cannot be checked
 */
typedef enum {
	RELAY_FILTER_PASS,
	RELAY_FILTER_NO_HASHTAG,
	RELAY_FILTER_LANGUAGE,
	RELAY_FILTER_DENIED_KEYWORD,
	RELAY_FILTER_NO_CONTENT,
	RELAY_FILTER_LAST,
} RelayFilterVerdict;

RelayFilterVerdict
relay_filter_check(const RelayNetworkConfig *network, RelayActivity *activity, gchar **out_reason);
const gchar *
relay_filter_verdict_to_string(RelayFilterVerdict verdict);
gchar *
relay_filter_html_to_text(const gchar *html);

G_END_DECLS
