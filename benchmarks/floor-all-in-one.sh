#!/usr/bin/env bash
# The floor of figure 1: what site.yml does to a fresh all-in-one host, done by hand, with nothing
# checked twice. The same packages (MySQL from Debian sid as the lab takes it, Redis, nginx, Docker,
# the Python libraries the roles install), the same configuration (the vendor's MySQL settings, the
# W&B database and user, Redis with a password, MinIO with the bucket and a key limited to it, nginx
# terminating TLS with a CA and certificate made here, Docker with log rotation), and the stand-in
# loaded from its archive and started, then /ready through the proxy. Run on the host itself:
#
#   floor-all-in-one.sh DIR     DIR holds minio, mc and standin.tar (benchmarks/bench.py copies them)
#
# Not a way to deploy W&B: no idempotence, no checks, passwords made on the spot. It only measures
# how long the work itself takes on this machine.
set -euo pipefail
dir=${1:?usage: floor-all-in-one.sh DIR}
image=${STANDIN_IMAGE:-wandb-fleet-lab/wandb-standin:0.1.0}
export DEBIAN_FRONTEND=noninteractive
pw() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
mysql_pw=$(pw) redis_pw=$(pw) minio_pw=$(pw) bucket_key=wandb-bucket bucket_secret=$(pw)

# --- packages --------------------------------------------------------------------------------------
mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
cat >/etc/apt/sources.list.d/mysql-suite.list <<SRC
deb [check-valid-until=no] $mirror sid main
SRC
printf 'Package: *\nPin: release n=sid\nPin-Priority: 100\n' >/etc/apt/preferences.d/mysql-suite.pref
apt-get -qq -o Acquire::Check-Valid-Until=false update
apt-get -qq install -y --no-install-recommends redis-server redis-tools nginx docker.io docker-cli \
  python3-docker python3-pymysql openssl ca-certificates curl >/dev/null
apt-get -qq install -y --no-install-recommends -t unstable mysql-server >/dev/null

# --- MySQL: the vendor's settings, the database and its user ---------------------------------------
cat >/etc/mysql/mysql.conf.d/wandb.cnf <<CNF
[mysqld]
port = 3306
bind_address = 0.0.0.0
max_connections = 1000
character_set_server = utf8mb4
collation_server = utf8mb4_general_ci
innodb_buffer_pool_size = 134217728
binlog_format = ROW
binlog_row_image = MINIMAL
innodb_flush_log_at_trx_commit = 1
innodb_online_alter_log_max_size = 268435456
max_prepared_stmt_count = 1048576
sort_buffer_size = 67108864
sync_binlog = 1
max_execution_time = 60000
slow_query_log = 1
long_query_time = 4
innodb_lru_scan_depth = 128
performance_schema = 1
server_id = 1
log_bin = binlog
gtid_mode = ON
enforce_gtid_consistency = ON
CNF
systemctl restart mysql
mysql <<SQL
CREATE DATABASE wandb_local CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER 'wandb'@'%' IDENTIFIED BY '$mysql_pw';
GRANT ALL PRIVILEGES ON wandb_local.* TO 'wandb'@'%';
SQL

# --- Redis with a password -------------------------------------------------------------------------
cat >>/etc/redis/redis.conf <<CONF
bind * -::*
protected-mode no
requirepass $redis_pw
maxmemory 64mb
maxmemory-policy noeviction
appendonly yes
CONF
systemctl restart redis-server

# --- MinIO: binaries, service, the bucket and a key limited to it ---------------------------------
install -m 0755 "$dir/minio" /usr/local/bin/minio
install -m 0755 "$dir/mc" /usr/local/bin/mc
useradd --system --no-create-home --shell /usr/sbin/nologin minio-user
install -d -o minio-user -g minio-user -m 0750 /var/lib/minio/data
install -d -m 0750 /etc/minio
cat >/etc/minio/minio.env <<ENV
MINIO_ROOT_USER=minio-admin
MINIO_ROOT_PASSWORD=$minio_pw
MINIO_VOLUMES=/var/lib/minio/data
MINIO_OPTS=--address :9000 --console-address :9001
ENV
chmod 0600 /etc/minio/minio.env
cat >/etc/systemd/system/minio.service <<UNIT
[Unit]
Description=MinIO
After=network-online.target
[Service]
Type=notify
User=minio-user
Group=minio-user
EnvironmentFile=/etc/minio/minio.env
ExecStart=/usr/local/bin/minio server \$MINIO_OPTS \$MINIO_VOLUMES
Restart=always
LimitNOFILE=65536
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now minio >/dev/null 2>&1
until curl -fsS http://127.0.0.1:9000/minio/health/ready >/dev/null; do sleep 0.2; done
export MC_CONFIG_DIR=/root/.mc
mc alias set local http://127.0.0.1:9000 minio-admin "$minio_pw" >/dev/null
mc mb local/wandb >/dev/null
cat >/tmp/wandb-policy.json <<POLICY
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::wandb", "arn:aws:s3:::wandb/*"]}]}
POLICY
mc admin user add local "$bucket_key" "$bucket_secret" >/dev/null
mc admin policy create local wandb-bucket /tmp/wandb-policy.json >/dev/null
mc admin policy attach local wandb-bucket --user "$bucket_key" >/dev/null

# --- TLS: a CA and the proxy's certificate ---------------------------------------------------------
name=$(hostname)
install -d -m 0755 /etc/nginx/wandb-tls
cd /etc/nginx/wandb-tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=W&B lab CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
  -keyout proxy.key -out proxy.csr 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:localhost\n' "$name" >san.ext
openssl x509 -req -in proxy.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile san.ext \
  -out proxy.crt 2>/dev/null
chmod 0600 proxy.key ca.key
cd /

# --- nginx terminating TLS in front of the server ----------------------------------------------------
rm -f /etc/nginx/sites-enabled/default
cat >/etc/nginx/conf.d/wandb.conf <<NGINX
map \$http_upgrade \$wandb_connection_upgrade { default upgrade; '' close; }
upstream wandb_server { server 127.0.0.1:8080 max_fails=1 fail_timeout=10s; keepalive 16; }
server { listen 80; server_name $name; return 301 https://\$host\$request_uri; }
server {
    listen 443 ssl;
    http2 on;
    server_name $name;
    ssl_certificate /etc/nginx/wandb-tls/proxy.crt;
    ssl_certificate_key /etc/nginx/wandb-tls/proxy.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security "max-age=31536000" always;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    location / {
        proxy_pass http://wandb_server;
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_set_header Upgrade \$http_upgrade;
        proxy_set_header Connection \$wandb_connection_upgrade;
    }
}
NGINX
nginx -t 2>/dev/null
systemctl reload nginx

# --- Docker with log rotation, the stand-in from its archive ----------------------------------------
install -d /etc/docker /etc/systemd/system/docker.service.d
printf '{"log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "5"}}\n' >/etc/docker/daemon.json
printf '[Service]\nEnvironment=DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1\n' >/etc/systemd/system/docker.service.d/wandb.conf
systemctl daemon-reload
systemctl restart docker
docker load -q -i "$dir/standin.tar" >/dev/null

# --- the server's environment and container ----------------------------------------------------------
install -d -m 0700 /etc/wandb
cat >/etc/wandb/wandb.env <<ENV
HOST=https://$name
MYSQL=mysql://wandb:$mysql_pw@host.docker.internal:3306/wandb_local
BUCKET=s3://$bucket_key:$bucket_secret@host.docker.internal:9000/wandb
REDIS=redis://:$redis_pw@host.docker.internal:6379
ENV
chmod 0600 /etc/wandb/wandb.env
install -d -o 999 -g 999 -m 0750 /var/lib/wandb
docker run -d -q --name wandb-local --restart unless-stopped --env-file /etc/wandb/wandb.env \
  --add-host host.docker.internal:host-gateway -p 127.0.0.1:8080:8080 -v /var/lib/wandb:/vol "$image" >/dev/null

# --- ready through the proxy -------------------------------------------------------------------------
for _ in $(seq 1 300); do
  curl -fsS --max-time 2 --cacert /etc/nginx/wandb-tls/ca.crt --resolve "$name:443:127.0.0.1" \
    "https://$name/ready" >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "floor: /ready did not answer 200 through the proxy" >&2
exit 1
