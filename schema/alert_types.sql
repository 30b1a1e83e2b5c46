-- schema/alert_types.sql
--	  The catalog of alert types (SPEC 2.1).  Concatenated after tables.sql
--	  into the install script, and into the upgrade script from the previous
--	  release (see upgrade/README.md).
--
-- tactics / tactic_ids: MITRE ATT&CK Enterprise tactics.  Ids checked against
--	  the Enterprise tactic list (attack.mitre.org/tactics/enterprise):
--	  TA0043 Reconnaissance, TA0001 Initial Access, TA0002 Execution,
--	  TA0004 Privilege Escalation, TA0005 Defense Evasion, TA0006 Credential
--	  Access, TA0008 Lateral Movement, TA0009 Collection, TA0010 Exfiltration,
--	  TA0040 Impact.  tactic_ids[i] is the id of tactics[i].
--
-- atlas_techniques: MITRE ATLAS technique ids, verified against
--	  github.com/mitre-atlas/atlas-data, data/techniques.yaml (ATLAS data
--	  4.8.0, 2025-03-14, commit ae7f830e) and its CHANGELOG.md:
--	  AML.T0006	Active Scanning
--	  AML.T0012	Valid Accounts
--	  AML.T0029	Denial of AI Service
--	  AML.T0034	Cost Harvesting
--	  AML.T0051	LLM Prompt Injection
--	  AML.T0051.000	LLM Prompt Injection: Direct
--	  AML.T0051.001	LLM Prompt Injection: Indirect
--	  AML.T0052	Phishing
--	  AML.T0054	LLM Jailbreak
--	  AML.T0055	Unsecured Credentials
--	  AML.T0056	Extract LLM System Prompt (named "LLM Meta Prompt Extraction"
--				before 4.8)
--	  AML.T0057	LLM Data Leakage
--	  AML.T0067	LLM Trusted Output Components Manipulation
--	  AML.T0068	LLM Prompt Obfuscation
--	  AML.T0069	Discover LLM System Information
--	  AML.T0070	RAG Poisoning
--	  Types with no fitting ATLAS technique (Tor / threat-list IPs) keep '{}'.

INSERT INTO aiguard.alert_types
	(code, title, description, severity, tactics, tactic_ids, atlas_techniques)
VALUES
('credential_theft',
 'Credential theft attempt: credentials in a model response',
 'A model response contained what validates as a real credential (cloud key, '
 'token, private key, connection string with password, ...). Whoever received '
 'the response can use it to reach other systems. Identify the secret type in '
 'details, rotate it, and check how it reached the model (prompt, retrieved '
 'document, training data).',
 'medium',
 '{Credential Access,Lateral Movement,Exfiltration}',
 '{TA0006,TA0008,TA0010}',
 '{AML.T0055,AML.T0057}'),

('jailbreak_blocked',
 'Jailbreak attempt blocked',
 'A prompt trying to override the model''s instructions or safety guardrails '
 'was rejected before it was stored or answered (block mode). The attack did '
 'not reach the model, but the user or IP is probing it: review their other '
 'prompts and alerts in the same incident.',
 'medium',
 '{Privilege Escalation,Defense Evasion}',
 '{TA0004,TA0005}',
 '{AML.T0054,AML.T0051.000}'),

('jailbreak_detected',
 'Jailbreak attempt detected',
 'A prompt trying to override the model''s instructions or safety guardrails '
 'was detected but not blocked (detect mode, or confidence below '
 'aiguard.block_threshold). Check the model''s response in the same '
 'conversation to see whether the jailbreak succeeded.',
 'medium',
 '{Privilege Escalation,Defense Evasion}',
 '{TA0004,TA0005}',
 '{AML.T0054,AML.T0051.000}'),

('sensitive_data_exposure',
 'Sensitive data (PII) in a model response',
 'A model response contained personal data such as a payment card, IBAN, '
 'national identifier, e-mail address or phone number (validated by checksum '
 'where one exists). Check whether the recipient was entitled to it and where '
 'the model obtained it (connected data source, other users, training data).',
 'low',
 '{Collection}',
 '{TA0009}',
 '{AML.T0057}'),

('phishing_url_model_response',
 'Application/model directed a phishing URL at a user',
 'A model response contained a URL that matches a phishing indicator, and the '
 'URL did not come from the user in this conversation. The application itself '
 'steered the user to a malicious site: look for poisoned retrieval sources or '
 'a compromised system prompt, and warn the user.',
 'high',
 '{Impact}',
 '{TA0040}',
 '{AML.T0052,AML.T0067}'),

('phishing_url_unknown_source',
 'Phishing URL shared in an AI application, origin unclear',
 'A URL matching a phishing indicator appeared in the conversation, but it '
 'cannot be determined whether it came from the user or the model (both sides '
 'contain it, or the origin is not mapped). Check the URL in details and the '
 'full conversation to decide who introduced it.',
 'high',
 '{Impact,Collection}',
 '{TA0040,TA0009}',
 '{AML.T0052}'),

('phishing_url_user_prompt',
 'Phishing URL sent by a user to the application',
 'A user prompt contained a URL matching a phishing indicator. The user may '
 'be trying to make the model fetch, summarise or repeat a malicious link, or '
 'their account may be compromised. Check the user''s other activity and '
 'whether the model repeated the URL.',
 'high',
 '{Collection}',
 '{TA0009}',
 '{AML.T0052}'),

('suspicious_user_agent',
 'Suspicious user agent',
 'The request came with a user agent matching a scanner, attack tool or LLM '
 'red-teaming tool list. This indicates automated probing of the application '
 'rather than normal use; check the client IP and user for other alerts and '
 'whether the activity was an authorised test.',
 'medium',
 '{Execution,Reconnaissance,Initial Access}',
 '{TA0002,TA0043,TA0001}',
 '{AML.T0006}'),

('ascii_smuggling',
 'ASCII smuggling prompt injection (invisible Unicode tag characters)',
 'The text contained instructions hidden in invisible Unicode tag characters, '
 'which the model reads but a human reviewer does not see. The decoded hidden '
 'text is in details; check what it asked the model to do and where the text '
 'came from (user input, pasted content, retrieved document).',
 'high',
 '{Impact}',
 '{TA0040}',
 '{AML.T0051,AML.T0068}'),

('tor_ip_access',
 'Access from a Tor exit node',
 'The request came from an IP address listed as a Tor exit node, so the real '
 'origin is hidden. Legitimate for some users, but attackers use Tor to avoid '
 'attribution; review what this user or session did and whether anonymous '
 'access is expected for the application.',
 'high',
 '{Execution}',
 '{TA0002}',
 '{}'),

('suspicious_ip_access',
 'Access from an IP on a threat list',
 'The request came from an IP address or network on a loaded threat '
 'intelligence list. The list source and category are in details; review the '
 'session''s prompts and other alerts, and consider blocking the address.',
 'high',
 '{Execution}',
 '{TA0002}',
 '{}'),

('wallet_attack_duplicates',
 'Suspected wallet attack: recurring identical requests',
 'The same (normalised) request was sent to one model deployment many times '
 'within the window, above the configured threshold. Repeated requests inflate '
 'token spend or exhaust quota (denial of wallet); the window and counts are in '
 'details. Check the originating users/IPs and apply rate limits.',
 'medium',
 '{Impact}',
 '{TA0040}',
 '{AML.T0034,AML.T0029}'),

('wallet_attack_volume',
 'Suspected wallet attack: request/token volume far above the resource''s own history',
 'The request or token volume for a model deployment in the window is far '
 'above its own baseline. This can be a cost-harvesting or denial-of-service '
 'attack, or a runaway client; compare the window and baseline in details and '
 'identify the top users/IPs.',
 'medium',
 '{Impact}',
 '{TA0040}',
 '{AML.T0034,AML.T0029}'),

('access_anomaly',
 'User seen from a new IP range or user agent',
 'A known user accessed the application from an IP range or with a user agent '
 'not seen for them before. This can indicate stolen credentials or API keys '
 'being used elsewhere; confirm with the user and check their recent prompts '
 'for unusual requests.',
 'medium',
 '{Execution,Reconnaissance,Initial Access}',
 '{TA0002,TA0043,TA0001}',
 '{AML.T0012}'),

('llm_reconnaissance',
 'Attempt to extract system instructions or capabilities',
 'A prompt asked the model to reveal its system prompt, hidden instructions, '
 'tools or configuration. This is often the first step before a targeted '
 'jailbreak or injection; check whether the response disclosed anything and '
 'what the same user tried next.',
 'low',
 '{Reconnaissance}',
 '{TA0043}',
 '{AML.T0069,AML.T0056}'),

('instruction_leakage',
 'System prompt or registered canary/secret leaked in a response',
 'A model response contained a registered canary token or secret, or a '
 'recognisable part of the system prompt. The instructions or data they protect '
 'are now exposed to the user: find the prompt that caused it (often a '
 'reconnaissance or jailbreak alert in the same conversation) and rotate the '
 'secret.',
 'medium',
 '{Exfiltration,Collection}',
 '{TA0010,TA0009}',
 '{AML.T0056,AML.T0057}'),

('phishing_url_tool_output',
 'Phishing URL in a tool output or retrieved document',
 'A tool result or retrieved (RAG) document given to the model contained a URL '
 'matching a phishing indicator. The model may pass it on to users as a '
 'trusted link; identify and clean the poisoned source document or tool.',
 'high',
 '{Impact}',
 '{TA0040}',
 '{AML.T0052,AML.T0070}'),

('indirect_prompt_injection',
 'Prompt injection inside a tool output or retrieved document',
 'A tool result or retrieved document contained instructions aimed at the '
 'model (indirect prompt injection). Content the model ingests can take over '
 'its behaviour without the user noticing; identify the source document or '
 'tool, remove the payload, and check what the model did afterwards.',
 'high',
 '{Initial Access,Defense Evasion}',
 '{TA0001,TA0005}',
 '{AML.T0051.001}'),

('unicode_spoofing',
 'Deceptive Unicode: text that displays differently from what it is',
 'The text was written to mislead its human reader: a bidirectional override '
 'that reverses what follows it (a file name "invoice[RLO]fdp.exe" displays as '
 '"invoiceexe.pdf"; Trojan Source code), words spelt with Cyrillic, Greek or '
 'Armenian letters that look Latin ("paypal", "Amazon" with a Cyrillic a), '
 'invisible characters in runs or inside words, or combining marks stacked on '
 'one letter. details names the technique (and the look-alike word read in '
 'Latin letters). Check who wrote it: a user evading filters, a model or tool '
 'output luring the user, or a poisoned document.',
 'medium',
 '{Defense Evasion,Initial Access}',
 '{TA0005,TA0001}',
 '{AML.T0068}')
-- An upgrade brings the catalog of an earlier release up to date; its
-- codes stay (alerts refer to them).
ON CONFLICT (code) DO UPDATE SET
	title = EXCLUDED.title,
	description = EXCLUDED.description,
	severity = EXCLUDED.severity,
	tactics = EXCLUDED.tactics,
	tactic_ids = EXCLUDED.tactic_ids,
	atlas_techniques = EXCLUDED.atlas_techniques;
