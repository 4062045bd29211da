#include "common/xml.h"

#include <libxml/parser.h>
#include <string.h>
#include "common/banned.h"

xmlDocPtr xml_parse(const char *data, size_t len)
{
	if (len > 0x7fffffff)
		return NULL;
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
		   XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA;
	xmlDocPtr doc = xmlReadMemory(data, (int)len, "body.xml", NULL, opts);
	if (doc && doc->intSubset) {
		/* A DOCTYPE has no place in an S3 body: refuse rather than risk it. */
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static int is_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

xmlNodePtr xml_root(xmlDocPtr doc, const char *name)
{
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	return root && is_elem(root, name) ? root : NULL;
}

xmlNodePtr xml_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

xmlNodePtr xml_next(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr n = node ? node->next : NULL; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

char *xml_text(xmlNodePtr node)
{
	return node ? (char *)xmlNodeGetContent(node) : NULL;
}
