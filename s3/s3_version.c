/*
 * s3_version — what the object operations share of versioning (src/
 * atrium.h, "versioning"): the versionId parameter, the x-amz-version-id
 * header, and S3's answers about delete markers.
 */
#include <stdio.h>

#include "s3/s3_int.h"
#include "common/banned.h"

enum s3_err s3_version_param(struct s3_req *r, const char **vid)
{
	*vid = s3_param(r, "versionId");
	/* An empty one is no id at all (AWS: "Version id cannot be the
	 * empty string"), as is one that is not ours. */
	return *vid && !atr_vid_valid(*vid) ? S3_ERR_INVALID_VERSION_ID : S3_ERR_OK;
}

int s3_version_header(struct buf *b, const char *name, const char *vid)
{
	return *vid ? buf_addf(b, "%s: %s\r\n", name, vid) : 0;
}

/* The headers that say a delete marker answered. */
static void marker_headers(struct s3_req *r, const char *vid)
{
	snprintf(r->err_hdrs, sizeof(r->err_hdrs),
		 "x-amz-delete-marker: true\r\nx-amz-version-id: %s\r\n", vid);
}

enum s3_err s3_version_error(struct s3_req *r, int rc, const char *vid, const struct atr_obj *o)
{
	char latest[ATR_VID_MAX + 1];
	if (rc == ATR_E_DELETE_MARKER) {
		/* Asked by its id: a marker has no bytes to give (405). */
		marker_headers(r, o->vid);
		return S3_ERR_METHOD_NOT_ALLOWED;
	}
	if (rc == ATR_E_NO_KEY && !vid &&
	    atr_object_latest_marker(r->srv->core, r->bucket, r->key, latest))
		marker_headers(r, latest); /* deleted: 404 NoSuchKey, saying so */
	return s3_err_from_core(rc);
}
