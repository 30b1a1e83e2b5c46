# Wallet attacks, found by the worker on its own every aiguard.wallet_interval.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use AiguardNode;

my $node = new_aiguard_node('wallet',
	'aiguard.wallet_interval' => '1s',
	'aiguard.worker_naptime'  => '200ms');
wait_for_new_worker($node);

$node->safe_psql('postgres', q{
	CREATE TABLE chat (id bigserial PRIMARY KEY, prompt text, response text, user_id text,
					   model text, created_at timestamptz NOT NULL DEFAULT now());
	SELECT aiguard_protect('chat', prompt => 'prompt', response => 'response', user_id => 'user_id',
						   resource => 'model', created_at => 'created_at');
});

# waits for two more detector runs, so that one started after the inserts
sub wait_for_detectors
{
	my $runs = $node->safe_psql('postgres', 'SELECT detector_runs FROM aiguard_worker_status()');
	$node->poll_query_until('postgres',
		"SELECT detector_runs >= $runs + 2 FROM aiguard_worker_status()")
	  or die 'the worker did not run the detectors';
}
sub wallet_alerts
{
	my ($model) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM aiguard.alerts WHERE alert_type LIKE 'wallet%' AND resource = '$model'");
}

# 500 identical prompts within a minute
$node->safe_psql('postgres', q{
	INSERT INTO chat (prompt, user_id, model, created_at)
	SELECT 'Write a 5000-word essay about the history of bread.', 'bot' || (g % 7), 'model-a',
		   now() - interval '1 minute' + g * interval '100 ms'
	  FROM generate_series(1, 500) g;
});
# the same 500 requests, but all different
$node->safe_psql('postgres', q{
	INSERT INTO chat (prompt, user_id, model, created_at)
	SELECT 'Question number ' || g || ': what is ' || g || ' times 7?', 'user' || (g % 50), 'model-b',
		   now() - interval '1 minute' + g * interval '100 ms'
	  FROM generate_series(1, 500) g;
});
# the same 500 identical prompts, spread over a day
$node->safe_psql('postgres', q{
	INSERT INTO chat (prompt, user_id, model, created_at)
	SELECT 'Write a 5000-word essay about the history of bread.', 'user' || (g % 50), 'model-c',
		   now() - interval '1 day' + g * interval '172 s'
	  FROM generate_series(1, 500) g;
});
wait_for_detectors();

is(wallet_alerts('model-a'), '1', '500 identical prompts in a minute: one wallet alert');
is( $node->safe_psql('postgres',
		"SELECT alert_type, (details->>'count')::int >= 500, details ? 'request_hash', details::text LIKE '%essay%' FROM aiguard.alerts WHERE resource = 'model-a'"),
	'wallet_attack_duplicates|t|t|f',
	'the alert counts the requests and names them by hash, not by text');
is(wallet_alerts('model-b'), '0', '500 distinct prompts in a minute: none');
is(wallet_alerts('model-c'), '0', 'the same 500 prompts spread over a day: none');

# the attack goes on: the same alert is updated, not repeated
$node->safe_psql('postgres', q{
	INSERT INTO chat (prompt, user_id, model)
	SELECT 'write a 5000-word   essay about the HISTORY of bread.', 'bot1', 'model-a'
	  FROM generate_series(1, 100);
});
wait_for_detectors();
is(wallet_alerts('model-a'), '1', 'while the attack goes on it stays one alert');
is( $node->safe_psql('postgres',
		"SELECT occurrences > 1, (details->>'count')::int >= 600 FROM aiguard.alerts WHERE resource = 'model-a'"),
	't|t', '... whose counter follows it');

done_testing();
