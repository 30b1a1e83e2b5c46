# AiguardNode.pm: a throwaway cluster with aiguard preloaded, for TAP tests.
package AiguardNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(new_aiguard_node worker_pid wait_for_new_worker crash_and_restart);

# A started node with aiguard in shared_preload_libraries, the worker on
# database postgres, and the extension created there.  %conf adds settings.
sub new_aiguard_node
{
	my ($name, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $extra = "shared_preload_libraries = 'aiguard'\naiguard.database = 'postgres'\nrestart_after_crash = on\n";
	$extra .= "$_ = '$conf{$_}'\n" for sort keys %conf;
	$node->append_conf('postgresql.conf', $extra);
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION aiguard');
	return $node;
}

# Pid of the running worker, or '' if none.
sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'aiguard worker'");
}

# Waits until a worker other than $old runs; returns its pid.
sub wait_for_new_worker
{
	my ($node, $old) = @_;
	$old //= 0;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'aiguard worker' AND pid <> $old")
	  or die "no aiguard worker came up";
	return worker_pid($node);
}

# SIGKILLs the postmaster, waits for it and its children to be gone, and
# starts the node again (crash recovery).  @stopped: pids of SIGSTOPped
# processes, continued after the kill so that they can see it and leave.
sub crash_and_restart
{
	my ($node, @stopped) = @_;
	my $pid = $node->{_pid};
	$node->kill9;
	kill 'CONT', @stopped if @stopped;
	for (my $i = 0; $i < 300 && kill(0, $pid); $i++)
	{
		select(undef, undef, undef, 0.1);
	}
	# backends leave on their own once they see the postmaster gone
	for (my $i = 0; $i < 100; $i++)
	{
		return if $node->start(fail_ok => 1);
		select(undef, undef, undef, 0.2);
	}
	die 'the node did not restart after SIGKILL';
}

1;
