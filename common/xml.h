/*
 * xml — reading the small XML bodies S3 clients send, safely, with libxml2.
 *
 * xml_parse never touches the network, never loads a DTD and never
 * substitutes entities (no billion-laughs, no XXE); callers cap the body size
 * before parsing. Elements are matched by local name, so a body with or
 * without S3's xmlns is read the same way.
 */
#ifndef COMMON_XML_H
#define COMMON_XML_H

#include <libxml/tree.h>
#include <stddef.h>

/* NULL when the body is not well-formed XML. Free with xmlFreeDoc. */
xmlDocPtr xml_parse(const char *data, size_t len);
/* The root element if its local name is name, else NULL. */
xmlNodePtr xml_root(xmlDocPtr doc, const char *name);
/* The first child element with that local name, or NULL. */
xmlNodePtr xml_child(xmlNodePtr parent, const char *name);
/* The next sibling element with that local name, or NULL. */
xmlNodePtr xml_next(xmlNodePtr node, const char *name);
/* Text content of node (malloc'd by libxml2, free with xmlFree), or NULL. */
char *xml_text(xmlNodePtr node);

#endif
