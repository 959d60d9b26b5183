# outbox.bash: bash completion for outbox(1), the outgoing (SMTP) server and account manager.
# Install it as $datadir/bash-completion/completions/outbox, or source it from ~/.bashrc.
# Server names and account addresses come from `outbox ... list --json`; nothing else is needed.

# Settings, as the field tables of the library define them (src/lib/server.c, src/lib/account.c).
_outbox_server_settings='--description --host --port --security --auth --user --password-command
	--allow-insecure-auth --no-allow-insecure-auth --tls-verify --no-tls-verify --tls-ca --tls-pin
	--tls-cert --tls-key --timeout --default --no-default'
_outbox_server_password='--password-stdin --password-prompt --no-password'
_outbox_account_settings='--name --server --fallback --only-this-server --no-only-this-server
	--retry-first --retry-max --give-up --default --no-default'

# Options that take the next word as their value (flags only take one after "=").
_outbox_takes_value()
{
	case $1 in
	--description | --host | --port | --security | --auth | --user | --password-command | \
		--tls-ca | --tls-pin | --tls-cert | --tls-key | --timeout | --rename | --reassign | \
		--name | --server | --fallback | --retry-first | --retry-max | --give-up)
		return 0 ;;
	esac
	return 1
}

# True when the store exists, found the way outbox finds it; listing would otherwise create it.
_outbox_have_store()
{
	local home
	if [[ -n ${OUTBOX_HOME-} ]]; then
		home=$OUTBOX_HOME
	elif [[ ${XDG_DATA_HOME-} == /* ]]; then
		home=$XDG_DATA_HOME/outbox
	elif [[ -n ${HOME-} ]]; then
		home=$HOME/.local/share/outbox
	else
		return 1
	fi
	[[ -f $home/outbox.db ]]
}

# Print the string values of member $3 in `$1 $2 list --json` ($1 the program), one a line.
# The member is matched only right after "{" or ",", so text inside other values never counts.
_outbox_list_values()
{
	_outbox_have_store || return 0
	"$1" "$2" list --json 2>/dev/null </dev/null |
		grep -o '[{,]"'"$3"'":"[^"\]*"' | sed -e 's/^[{,]"'"$3"'":"//' -e 's/"$//'
}

# Set COMPREPLY to the words of $1 that start with $cur. Words are
# split at blanks and newlines, or at newlines only when $2 is "lines" (names from the store).
# Unlike compgen -W, nothing in them is expanded, so an address with "$" in it stays as it is.
_outbox_reply()
{
	local w sep=$' \t\n'
	local -a list=()
	[[ ${2-} == lines ]] && sep=$'\n'
	IFS=$sep read -r -d '' -a list <<<"$1"
	COMPREPLY=()
	for w in "${list[@]}"; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
	return 0
}

# `outbox alias`: add|list|remove, and the alias names that remove (and add, to replace) take.
# It works on the locals of _outbox: words, cword, cur and bin.
_outbox_alias()
{
	if ((cword == 2)); then
		_outbox_reply 'add list remove --help'
		return 0
	fi
	case ${words[2]} in
	list | ls) _outbox_reply '--json --help' ;;
	remove | rm | add)
		if [[ $cur == -* ]]; then
			_outbox_reply '--help'
		elif ((cword == 3)); then
			_outbox_reply "$(_outbox_list_values "$bin" alias name)" lines
		fi ;;
	esac
	return 0
}

# `outbox queue` (also `outbox outbox`): list|show|run|retry|remove, their options, and the
# server names that `run --server` takes. Message IDs are not completed.
# It works on the locals of _outbox: words, cword, cur and bin.
_outbox_queue()
{
	local verb

	if ((cword == 2)); then
		_outbox_reply 'list show run retry remove --help'
		return 0
	fi
	verb=${words[2]}
	case $verb in
	ls) verb=list ;;
	rm) verb=remove ;;
	esac
	# The value of --server, which takes the next word (not "--server=NAME").
	if [[ $verb == run && ${words[cword - 1]} == --server ]]; then
		_outbox_reply "$(_outbox_list_values "$bin" server name)" lines
		return 0
	fi
	# --connections takes a number: nothing to offer.
	[[ $verb == run && ${words[cword - 1]} == --connections ]] && return 0
	[[ $cur == -* || $verb == run || $verb == list ]] || return 0
	case $verb in
	list) _outbox_reply '--failed --json --help' ;;
	show) _outbox_reply '--json --help' ;;
	run) _outbox_reply '--all --server --connections -v --verbose --watch --help' ;;
	retry) _outbox_reply '--all --help' ;;
	remove) _outbox_reply '--purge --help' ;;
	esac
	return 0
}

# `outbox send`: sendmail's option grammar, where -f, -r, -F, -B and -N take the next word unless
# their value is joined ("-fann@example.com"), and everything after "--" is a recipient.
# It works on the locals of _outbox: words, cword, cur, prefix and bin.
_outbox_send()
{
	local k=2 w opt=''

	while ((k < cword)); do
		w=${words[k]}
		opt=''
		[[ $w == -- ]] && return 0
		if [[ $w == --* && ${words[k + 1]} == = ]]; then
			opt=$w
			((k += 2))
		else
			case $w in
			-f | -r | -F | -B | -N | --account | --server)
				opt=$w
				((k++)) ;;
			esac
		fi
		((k++))
	done

	# The word is the value of the option before it: "--opt VALUE", or "--opt=VALUE" split at "=".
	if ((k > cword)); then
		[[ $cur == = ]] && cur=''
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		prefix=$opt=
		cur=${cur#*=}
	elif [[ $cur == -[fr]?* ]]; then
		opt=${cur:0:2}
		prefix=$opt
		cur=${cur:2}
	else
		_outbox_reply '-t -f -F -i -oi -v -q --account --server --verbose --quiet --queue-only
			--no-queue --help'
		return 0
	fi
	case $opt in
	--account | -f | -r)
		_outbox_reply "$(_outbox_list_values "$bin" account address)" lines ;;
	--server)
		_outbox_reply "$(_outbox_list_values "$bin" server name)" lines ;;
	esac
	if [[ -n $prefix ]]; then
		COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
	fi
	return 0
}

_outbox()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cword=$COMP_CWORD prefix='' bin=outbox
	local -a words=("${COMP_WORDS[@]}")
	local group verb opt='' i n=0 end=0 w
	COMPREPLY=()

	# A program run by path (./build/outbox) is asked about its own store.
	if [[ ${words[0]} == */* && -x ${words[0]} ]]; then
		bin=${words[0]}
	fi

	if ((cword == 1)); then
		_outbox_reply 'server account alias import export undo send log queue ui help --help --version'
		return
	fi
	group=${words[1]}
	case $group in
	servers) group=server ;;
	accounts) group=account ;;
	server | account) ;;
	undo | ui)
		[[ $cur == -* ]] && _outbox_reply '--help'
		return ;;
	alias | aliases)
		_outbox_alias
		return ;;
	import | export)
		# msmtprc is all there is to import or export; after it, the options or a file.
		if ((cword == 2)); then
			_outbox_reply 'msmtprc --help'
		elif [[ $cur == -* ]]; then
			[[ $group == import ]] && _outbox_reply '--dry-run --json --help' ||
				_outbox_reply '--output --aliases --help'
		elif [[ $group == import || ${words[cword - 1]} == --output || ${words[cword - 1]} == --aliases ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return ;;
	send)
		_outbox_send
		return ;;
	queue | outbox)
		_outbox_queue
		return ;;
	log)
		# -n takes a count, which is not completed.
		[[ ${words[cword - 1]} == -n ]] || _outbox_reply '--json -n --help'
		return ;;
	*) return ;;
	esac
	if ((cword == 2)); then
		if [[ $group == server ]]; then
			_outbox_reply 'add edit remove list show check --help'
		else
			_outbox_reply 'add edit set-server remove list show --help'
		fi
		return
	fi
	verb=${words[2]}
	case $verb in
	rm) verb=remove ;;
	ls) verb=list ;;
	esac

	# The value of an option: "--opt VALUE", or "--opt=VALUE", which bash splits at "=" unless
	# "=" was taken out of COMP_WORDBREAKS.
	if [[ $cur == = ]]; then
		opt=${words[cword - 1]}
		cur=''
	elif [[ ${words[cword - 1]} == = ]]; then
		opt=${words[cword - 2]}
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		prefix=$opt=
		cur=${cur#*=}
	elif [[ ${words[cword - 1]} == --* ]] && _outbox_takes_value "${words[cword - 1]}"; then
		opt=${words[cword - 1]}
		local k=3 seen_end=0
		# ... unless it follows "--", after which nothing is an option.
		while ((k < cword - 1)); do
			[[ ${words[k]} == -- ]] && seen_end=1
			((k++))
		done
		((seen_end)) && opt=''
	fi
	if [[ -n $opt ]]; then
		case $opt in
		--security)
			_outbox_reply 'tls starttls none' ;;
		--auth)
			_outbox_reply 'auto none plain login cram-md5 scram-sha-1 scram-sha-256 xoauth2
				oauthbearer external' ;;
		--port)
			_outbox_reply '465 587 25' ;;
		--tls-ca | --tls-cert | --tls-key)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		--password-command)
			mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
		--server | --reassign)
			_outbox_reply "$(_outbox_list_values "$bin" server name)" lines ;;
		--fallback)
			# A comma-separated list: complete its last name, leaving out the ones given.
			local head='' have name names=''
			if [[ $cur == *,* ]]; then
				head=${cur%,*},
				cur=${cur##*,}
			fi
			have=,$head
			for name in $(_outbox_list_values "$bin" server name); do
				[[ $have == *,"$name",* ]] || names+=$name$'\n'
			done
			prefix+=$head
			_outbox_reply "$names" lines ;;
		--allow-insecure-auth | --tls-verify | --default | --only-this-server)
			_outbox_reply 'yes no' ;;
		esac
		# Put back what the value was cut from: "--opt=" and the names before the last comma.
		if [[ -n $prefix ]]; then
			COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
		fi
		return
	fi

	# Count the positional arguments before the word being completed.
	i=3
	while ((i < cword)); do
		w=${words[i]}
		if ((end)) || [[ $w != -* || $w == - ]]; then
			((n++))
		elif [[ $w == -- ]]; then
			end=1
		elif [[ ${words[i + 1]} == = ]]; then
			((i += 2))
		elif [[ $w != *=* ]] && _outbox_takes_value "$w"; then
			((i++))
		fi
		((i++))
	done

	if [[ $cur != -* ]] || ((end)); then
		case $group/$verb/$n in
		server/edit/0 | server/remove/0 | server/show/0 | server/check/0 | account/set-server/1)
			_outbox_reply "$(_outbox_list_values "$bin" server name)" lines
			return ;;
		account/edit/0 | account/remove/0 | account/show/0 | account/set-server/0)
			_outbox_reply "$(_outbox_list_values "$bin" account address)" lines
			return ;;
		esac
		((end)) && return
	fi

	case $group/$verb in
	server/add) _outbox_reply "$_outbox_server_settings $_outbox_server_password --help" ;;
	server/edit) _outbox_reply "$_outbox_server_settings $_outbox_server_password --rename --help" ;;
	server/remove) _outbox_reply '--reassign --purge --help' ;;
	server/check) _outbox_reply '--json -v --verbose --help' ;;
	server/list | server/show | account/list | account/show) _outbox_reply '--json --help' ;;
	account/add) _outbox_reply "$_outbox_account_settings --help" ;;
	account/edit) _outbox_reply "$_outbox_account_settings --rename --help" ;;
	account/set-server) _outbox_reply '--help' ;;
	account/remove) _outbox_reply '--purge --help' ;;
	esac
}

complete -F _outbox outbox
