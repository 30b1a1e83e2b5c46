# The background worker: starts, shows itself, reloads, restarts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AiguardNode;

my $node = new_aiguard_node('worker');

my $pid = wait_for_new_worker($node);
ok($pid > 0, 'the worker starts with the server');

is( $node->safe_psql('postgres',
		'SELECT preloaded, database, pid = ' . $pid . ' FROM aiguard_worker_status()'),
	"t|postgres|t",
	'aiguard_worker_status() reports the running worker');

like(
	$node->safe_psql('postgres',
		"SELECT query FROM pg_stat_activity WHERE backend_type = 'aiguard worker'"),
	qr/^aiguard: /,
	'pg_stat_activity shows what the worker does');

# SIGHUP: new settings are taken without a restart
my $log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "aiguard.worker_naptime = '250ms'\naiguard.batch_size = 7\n");
$node->reload;
ok($node->wait_for_log(qr/aiguard worker reloaded its settings: naptime 250 ms, batch size 7/, $log_offset),
	'the worker reloads its settings on SIGHUP');
is(worker_pid($node), $pid, 'a reload does not restart the worker');

# SIGTERM ends the worker cleanly; the postmaster starts it again
$log_offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->wait_for_log(qr/terminating background worker "aiguard worker" due to administrator command/, $log_offset),
	'SIGTERM ends the worker');
my $pid2 = wait_for_new_worker($node, $pid);
isnt($pid2, $pid, 'the postmaster restarts a terminated worker');

# a crash (SIGKILL) restarts the cluster, and the worker with it
kill 'KILL', $pid2;
my $pid3 = wait_for_new_worker($node, $pid2);
ok($pid3 > 0 && $pid3 != $pid2, 'the worker is back after a crash');

# the worker serves one database: elsewhere, async and block say so
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION aiguard; CREATE TABLE chat (id int PRIMARY KEY, prompt text)');
my ($ret, $out, $err) = $node->psql('other',
	"SELECT aiguard_protect('chat', prompt => 'prompt', mode => 'async')");
like($err, qr/needs the aiguard background worker, which serves database "postgres"/,
	'async mode in another database is refused');
like($err, qr/HINT:  Set aiguard.database = 'other'/, '... with a hint');

# a clean shutdown stops the worker with the server
$node->stop('fast');
ok(!-e $node->data_dir . '/postmaster.pid', 'the server stops with the worker running');

done_testing();
