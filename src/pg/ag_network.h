/*
 * ag_network.h
 *	  Network signals of a chat row: its client IP against the threat
 *	  indicators, its user agent against the attack-tool rules.
 */
#ifndef AG_NETWORK_H
#define AG_NETWORK_H

#include "ag_alerts.h"
#include "ag_catalog.h"

/* Canonical text of an address or network, or NULL; never errors. */
extern char *AgParseAddress(const char *value);

/* Was the address looked up recently and found on no list? (No query.) */
extern bool AgAddressKnownClean(const AgCatalog *cat, const char *ip);

/* Empty, under 4 characters, without letters, or with control characters. */
extern bool AgUserAgentMalformed(const char *ua, size_t len);

/*
 * Raises tor_ip_access / suspicious_ip_access for a listed client IP and
 * suspicious_user_agent for an attack tool's (or an empty, malformed) user
 * agent; one alert per signal, user, address or agent, resource and hour.
 * Returns the number of new alerts.
 */
extern int	AgCheckNetworkSignals(AgCatalog *cat, AgAlertSource *src,
								  bool user_agent_mapped);

#endif
