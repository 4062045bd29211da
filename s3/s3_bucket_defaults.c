/*
 * s3_bucket_defaults — the bucket sub-resources Atrium does not keep
 * (static websites, requester pays, transfer acceleration, event
 * notifications), answered as AWS answers a bucket where they were never
 * configured: clients (the AWS console, rclone, Terraform's refresh,
 * SDKs' "get everything about this bucket") probe them and take 501 for
 * a broken server. Only whoever may read the bucket's configuration gets
 * the answer (the owner, or whom the policy allows AWS's action); the
 * PUTs stay NotImplemented (no route), so nothing is silently dropped.
 */
#include <string.h>

#include "s3/s3_int.h"
#include "common/banned.h"

/* The caller may read the bucket's configuration under action. */
static enum s3_err may_read(struct s3_req *r, const char *action)
{
	return s3_err_from_core(atr_bucket_config_check(r->srv->core, &r->user, r->bucket,
							action));
}

/* Answers the document root holding body (may be ""), an empty
 * configuration when body is "". */
static enum s3_err send_default(struct s3_req *r, const char *action, const char *root,
				const char *body)
{
	enum s3_err e = may_read(r, action);
	if (e)
		return e;
	struct buf b = BUF_INIT(4096);
	int bad = s3_xml_open(&b, root) || buf_addstr(&b, body) ||
		  buf_addf(&b, "</%s>", root);
	if (!bad)
		s3_send_xml(r, 200, &b);
	buf_release(&b);
	return bad ? S3_ERR_INTERNAL : S3_ERR_OK;
}

enum s3_err s3_get_bucket_website(struct s3_req *r)
{
	enum s3_err e = may_read(r, "s3:GetBucketWebsite");
	return e ? e : S3_ERR_NO_SUCH_WEBSITE;
}

enum s3_err s3_get_bucket_request_payment(struct s3_req *r)
{
	return send_default(r, "s3:GetBucketRequestPayment", "RequestPaymentConfiguration",
			    "<Payer>BucketOwner</Payer>");
}

enum s3_err s3_get_bucket_accelerate(struct s3_req *r)
{
	return send_default(r, "s3:GetAccelerateConfiguration", "AccelerateConfiguration", "");
}

enum s3_err s3_get_bucket_notification(struct s3_req *r)
{
	return send_default(r, "s3:GetBucketNotification", "NotificationConfiguration", "");
}
