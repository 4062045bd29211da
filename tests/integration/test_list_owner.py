"""Owner in listings: ListObjects (V1) always gives each key's Owner;
ListObjectsV2 only with fetch-owner=true. The owner is who wrote the key.
boto3, awscli and raw requests."""
import json

from s3util import S3NS, awscli


def test_list_objects_owner(sigv4_daemon, bucket_name, tmp_path):
    alice = sigv4_daemon.boto3("alice")
    alice.create_bucket(Bucket=bucket_name)
    alice.put_object(Bucket=bucket_name, Key="a", Body=b"1")
    admin = sigv4_daemon.boto3("admin")  # the superuser may write anywhere
    admin.put_object(Bucket=bucket_name, Key="b", Body=b"2")

    v1 = alice.list_objects(Bucket=bucket_name)["Contents"]
    assert [(c["Key"], c["Owner"]["ID"], c["Owner"]["DisplayName"]) for c in v1] == \
        [("a", "alice", "Display alice"), ("b", "root", "Display root")]
    v2 = alice.list_objects_v2(Bucket=bucket_name)["Contents"]
    assert all("Owner" not in c for c in v2)
    v2 = alice.list_objects_v2(Bucket=bucket_name, FetchOwner=False)["Contents"]
    assert all("Owner" not in c for c in v2)
    v2 = alice.list_objects_v2(Bucket=bucket_name, FetchOwner=True)["Contents"]
    assert [(c["Key"], c["Owner"]["ID"], c["Owner"]["DisplayName"]) for c in v2] == \
        [("a", "alice", "Display alice"), ("b", "root", "Display root")]

    r = sigv4_daemon.request("GET", "/%s?list-type=2&fetch-owner=true" % bucket_name,
                             user="alice")
    owners = [c.find(S3NS + "Owner/" + S3NS + "ID").text
              for c in r.xml().findall(S3NS + "Contents")]
    assert owners == ["alice", "root"], r

    aws = awscli(sigv4_daemon, tmp_path)
    out = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name,
                         "--fetch-owner").stdout)
    assert [c["Owner"]["ID"] for c in out["Contents"]] == ["alice", "root"]
    out = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name).stdout)
    assert all("Owner" not in c for c in out["Contents"])
    out = json.loads(aws("s3api", "list-objects", "--bucket", bucket_name).stdout)
    assert [c["Owner"]["ID"] for c in out["Contents"]] == ["alice", "root"]
