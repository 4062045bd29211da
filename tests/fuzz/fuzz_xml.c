/*
 * fuzz_xml — reading S3 request bodies with common/xml.h, the way
 * CreateBucket reads CreateBucketConfiguration (and later bodies will be
 * read): parse, find the root, walk its children, take their text.
 *
 * Input: the body. Properties: a document with a DOCTYPE is never
 * returned (no entity declarations can reach a handler), no text we read
 * holds an unexpanded or expanded entity from a DTD, and everything is
 * freed (LeakSanitizer).
 */
#include <libxml/parser.h>
#include <string.h>

#include "common/xml.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (64 * 1024) /* the cap CreateBucket puts on its body */

/* Visits every element below n the way handlers do. */
static void walk(xmlNodePtr n, int depth)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
		FUZZ_CHECK(c->type != XML_ENTITY_REF_NODE && c->type != XML_DTD_NODE);
		if (c->type != XML_ELEMENT_NODE)
			continue;
		char *text = xml_text(c);
		xmlFree(text);
		if (depth < 512)
			walk(c, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	xmlDocPtr doc = xml_parse((const char *)data, size);
	if (!doc)
		return 0;
	FUZZ_CHECK(!doc->intSubset && !doc->extSubset);
	xmlNodePtr root = xml_root(doc, "CreateBucketConfiguration");
	char *loc = xml_text(xml_child(root, "LocationConstraint"));
	xmlFree(loc);
	for (xmlNodePtr n = xml_child(root, "LocationConstraint"); n; n = xml_next(n, "LocationConstraint"))
		;
	walk(xmlDocGetRootElement(doc), 0);
	xmlFreeDoc(doc);
	return 0;
}
