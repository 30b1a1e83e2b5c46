/*
 * ag_smuggling.h
 *	  ASCII smuggling: instructions hidden in invisible Unicode tag
 *	  characters (U+E0000..U+E007F), decoded back to readable text.
 */
#ifndef AG_SMUGGLING_H
#define AG_SMUGGLING_H

#include <stddef.h>

#include "ag_util.h"

typedef struct AgSmuggled
{
	size_t		start;			/* first hidden tag character (bytes) */
	size_t		end;			/* one past the last one */
	int			ntags;			/* hidden tag characters */
	AgBuf		hidden;			/* decoded ASCII text */
} AgSmuggled;

/*
 * Looks for tag characters that are not part of a legitimate emoji tag
 * sequence (a subdivision flag such as England's).  Returns 1 and fills sm
 * when some were found, 0 when none, -1 when out of memory.
 */
extern int	AgFindSmuggling(AgSmuggled *sm, const char *text, size_t len);
extern void AgSmuggledFree(AgSmuggled *sm);

#endif							/* AG_SMUGGLING_H */
