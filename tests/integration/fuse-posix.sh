# fuse-posix: POSIX conformance of dnsfs-mount, proved by comparison. Every
# operation below runs twice, on a tmpfs directory and on the mount (with
# allow_other, so other users get in), through tests/integration/posixprobe.py;
# each is one TAP line that passes when both give the same result (errno,
# and the values a query prints) and, where a line says "=> X", when that
# is X on tmpfs as well, so the expectations are checked against Linux too.
# "=> T | M" is a documented deliberate difference (tmpfs T, dnsfs M);
# "todo" marks a data-path behaviour that is being rewritten (TAP # TODO).
# Covered: NAME_MAX/PATH_MAX, the errno cases of mkdir, rmdir, unlink,
# rename, link, open(O_EXCL); mknod of every type with rdev; chmod/chown rules
# (set-ID bits); utimensat; ctime/mtime of files and parents; nlink; sticky
# directories; permission checks for another user; setgid directories;
# truncate/ftruncate/posix_fallocate; readdir with d_type and "..". Then a
# remount and the state compared again, so it came from DNS.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/fuse-lib.sh"
fuse_setup 3 dig python3
PROBE="$top_srcdir/tests/integration/posixprobe.py"

chmod 755 "$TMP"                # other users must reach both trees
mkdir "$TMP/tmpfs"
mount -t tmpfs -o mode=0755 dnsfs-posix "$TMP/tmpfs" || bail "cannot mount a tmpfs"
on_exit 'umount "$TMP/tmpfs"'
do_mount -o allow_other,dev,suid || { sed 's/^/# /' "$TMP/mount.log"; bail "dnsfs-mount did not mount"; }
check_match "mounted with allow_other and default_permissions, dev and suid" \
	"fuse.dnsfs rw,relatime,.*default_permissions,allow_other" "$(grep " $M " /proc/mounts)"
TP="$TMP/tmpfs/t"
MP="$M/t"
mkdir -m 0755 "$TP" "$MP" || bail "mkdir t"

# tap_todo ok|"not ok" DESC: a TAP line with the TODO directive.
tap_todo() { _tap_n=$((_tap_n + 1)); echo "$1 $_tap_n - $2 # TODO open-file data path"; }

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

# probe SCRIPT: run the script on tmpfs ($TP) and on the mount ($MP).
probe() {
	local i line op spec wt wm desc todo pass
	local -a lines rt rm
	mapfile -t lines < <(printf '%s\n' "$1" | sed -e 's/^[[:space:]]*//' -e '/^$/d' -e '/^#/d')
	printf '%s\n' "${lines[@]}" | sed -e 's/[[:space:]]*=>.*$//' -e 's/^todo //' >"$TMP/ops"
	python3 "$PROBE" "$TP" <"$TMP/ops" >"$TMP/rt" 2>"$TMP/rt.err"
	python3 "$PROBE" "$MP" <"$TMP/ops" >"$TMP/rm" 2>"$TMP/rm.err"
	mapfile -t rt <"$TMP/rt"
	mapfile -t rm <"$TMP/rm"
	[ "${#rt[@]}" = "${#lines[@]}" ] && [ "${#rm[@]}" = "${#lines[@]}" ] || {
		sed 's/^/# tmpfs: /' "$TMP/rt.err"; sed 's/^/# dnsfs: /' "$TMP/rm.err"
		bail "posixprobe: ${#rt[@]} and ${#rm[@]} results for ${#lines[@]} operations"
	}
	for i in "${!lines[@]}"; do
		line=${lines[$i]}
		todo=0
		case $line in "todo "*) todo=1; line=${line#todo } ;; esac
		op=$(trim "${line%%=>*}")
		spec=
		case $line in *"=>"*) spec=$(trim "${line#*=>}") ;; esac
		desc=${op:0:90}
		[ "${#op}" -gt 90 ] && desc="$desc..."
		if [[ $spec == *"|"* ]]; then
			wt=$(trim "${spec%%|*}")
			wm=$(trim "${spec#*|}")
			desc="$desc (differs: tmpfs $wt, dnsfs $wm)"
			[ "${rt[$i]}" = "$wt" ] && [ "${rm[$i]}" = "$wm" ] && pass=1 || pass=0
		else
			[ "${rt[$i]}" = "${rm[$i]}" ] && { [ -z "$spec" ] || [ "${rt[$i]}" = "$spec" ]; } &&
				pass=1 || pass=0
		fi
		if [ "$todo" = 1 ]; then
			[ "$pass" = 1 ] && tap_todo ok "$desc" || tap_todo "not ok" "$desc"
		elif [ "$pass" = 1 ]; then
			ok "$desc"
		else
			not_ok "$desc"
		fi
		if [ "$pass" = 0 ]; then
			[ -n "$spec" ] && diag "expected: [$spec]"
			diag "tmpfs:    [${rt[$i]:0:200}]"
			diag "dnsfs:    [${rm[$i]:0:200}]"
		fi
	done
}

n255=$(head -c 255 /dev/zero | tr '\0' n)
n256=${n255}n
t1023=$(head -c 1023 /dev/zero | tr '\0' t)
t4095=$(head -c 4095 /dev/zero | tr '\0' t)
t4096=${t4095}t

# ---- names: NAME_MAX = 255, PATH_MAX = 4096 -----------------------------------
probe "
create $n255 0644                       => 0
lstat $n255 type,size                   => 0 reg 0
unlink $n255                            => 0
create $n256 0644                       => ENAMETOOLONG
mkdir $n256 0755                        => ENAMETOOLONG
mknod $n256 fifo 0644                   => ENAMETOOLONG
symlink x $n256                         => ENAMETOOLONG
lstat $n256 type                        => ENAMETOOLONG
create x 0644                           => 0
link x $n256                            => ENAMETOOLONG
rename x $n256                          => ENAMETOOLONG
symlink $t1023 sl1023                   => 0
readlink sl1023 $t1023                  => 0 1023 same
symlink $t4095 sl4095                   => 0
readlink sl4095 $t4095                  => 0 4095 same
lstat sl4095 type,size,mode             => 0 lnk 4095 777
symlink $t4096 sl4096                   => ENAMETOOLONG
"

# names that need encoding in DNS: spaces, %, quotes, =, ;, UTF-8 (255 bytes)
u255=$(python3 -c 'print("\u00e9" * 127 + "x")')
u256=$(python3 -c 'print("\u00e9" * 128)')
mkdir "$TP/enc" "$MP/enc"
probe "
create 'enc/sp ace' 0644                        => 0
create 'enc/50%25 \"q\" \\b' 0644                => 0
create 'enc/a=b;c' 0644                         => 0
mkdir 'enc/.hidden dir' 0755                    => 0
symlink '../x y%' 'enc/l nk'                    => 0
readlink 'enc/l nk' '../x y%'                   => 0 7 same
create 'enc/$u255' 0644                         => 0
create 'enc/$u256' 0644                         => ENAMETOOLONG
rename 'enc/sp ace' 'enc/café'             => 0
ls enc
readdir enc
"

# ---- errno of the namespace operations ----------------------------------------
probe "
mkdir d 0755                            => 0
mkdir d 0755                            => EEXIST
mkdir . 0755                            => EEXIST
mkdir nope/d 0755                       => ENOENT
create f 0644                           => 0
mkdir f/d 0755                          => ENOTDIR
create f 0644                           => EEXIST
open f O_CREAT,O_EXCL,O_WRONLY          => EEXIST
open d O_CREAT,O_EXCL,O_WRONLY          => EEXIST
open f O_CREAT,O_WRONLY                 => 0
open d O_WRONLY                         => EISDIR
open nope/f O_CREAT,O_WRONLY            => ENOENT
open f/x O_CREAT,O_WRONLY               => ENOTDIR
rmdir nope                              => ENOENT
rmdir f                                 => ENOTDIR
rmdir d/.                               => EINVAL
mkdir d/sub 0755                        => 0
rmdir d                                 => ENOTEMPTY
rmdir d/sub/..                          => ENOTEMPTY
unlink d                                => EISDIR
unlink nope                             => ENOENT
unlink f/x                              => ENOTDIR
rename nope x2                          => ENOENT
rename f d                              => EISDIR
rename d f                              => ENOTDIR
mkdir e 0755                            => 0
create e/x 0644                         => 0
rename d e                              => ENOTEMPTY
rename d d/sub/in                       => EINVAL
rename d d/sub                          => EINVAL
rename f f                              => 0
rename d d                              => 0
rename d/sub e/x                        => ENOTDIR
rename e/x d/sub                        => EISDIR
rename f/x y                            => ENOTDIR
link d d2                               => EPERM
link f d                                => EEXIST
link f x                                => EEXIST
link nope n2                            => ENOENT
link f f2                               => 0
rename f f2                             => 0
ls .                                    => 0 d e enc f f2 sl1023 sl4095 x
unlink f2                               => 0
mkdir emp 0755                          => 0
rename e/x emp/x                        => 0
rename e emp                            => ENOTEMPTY
rename emp/x e/x                        => 0
rename d emp                            => 0
lstat emp/sub type                      => 0 dir
lstat d type                            => ENOENT
rename e emp                            => ENOTEMPTY
"

# ---- creation modes and owners -----------------------------------------------------
probe "
umask 077                                       => 0
open um O_CREAT,O_WRONLY 0151                   => 0
lstat um type,mode                              => 0 reg 100
mkdir umd 0777                                  => 0
lstat umd mode                                  => 0 700
umask 0501                                      => 0
mknod umf fifo 0345                             => 0
lstat umf mode                                  => 0 244
umask 0                                         => 0
open ux O_CREAT,O_WRONLY 0151                   => 0
lstat ux type,mode                              => 0 reg 151
chown . 65534 65534                             => 0
as 65534 65534 open uo O_CREAT,O_WRONLY 0644    => 0
lstat uo uid,gid                                => 0 65534 65534
as 65534 65533 open uo2 O_CREAT,O_WRONLY 0644   => 0
lstat uo2 uid,gid                               => 0 65534 65533
chown . 0 0                                     => 0
changed . mtime,ctime -- open uo O_CREAT,O_RDONLY  => 0 mtime:same ctime:same
create lk 0644                                  => 0
symlink lk lks                                  => 0
link lks lks2                                   => 0
lstat lks type,nlink                            => 0 lnk 2
lstat lk nlink                                  => 0 1
chmod . 0777                                    => 0
as 65534 65534 link lk hl
chmod lk 0666                                   => 0
as 65534 65534 link lk hl                       => 0
chmod . 0755                                    => 0
create ou 0644                                  => 0
write ou data                                   => 0
openunlink ou                              => 0 nlink=0 size=10 still here
"

# ---- link counts -------------------------------------------------------------
probe "
mkdir n 0755                            => 0
lstat n nlink                           => 0 2
mkdir n/a 0755                          => 0
mkdir n/b 0755                          => 0
create n/f 0644                         => 0
lstat n nlink                           => 0 4
lstat n/f nlink                         => 0 1
rmdir n/a                               => 0
lstat n nlink                           => 0 3
lstat . nlink
rename n/b nb                           => 0
lstat n nlink                           => 0 2
lstat . nlink
rename nb n/b                           => 0
mkdir n/c 0755                          => 0
rename n/b n/c                          => 0
lstat n nlink                           => 0 3
link n/f n/f2                           => 0
lstat n/f nlink                         => 0 2
lstat n/f2 nlink                        => 0 2
unlink n/f                              => 0
lstat n/f2 nlink                        => 0 1
link n/f2 n/h                           => 0
create n/g 0644                         => 0
rename n/g n/h                          => 0
lstat n/f2 nlink                        => 0 1
lstat n/h nlink                         => 0 1
"

# ---- times: ctime of the inode, mtime/ctime of the parents ----------------------
probe "
create c 0644                                   => 0
changed c mtime,ctime -- chmod c 0600           => 0 mtime:same ctime:changed
changed c mtime,ctime -- chown c 7 7            => 0 mtime:same ctime:changed
changed c mtime,ctime -- chown c -1 -1          => 0 mtime:same ctime:changed
changed c mtime,ctime -- link c c2              => 0 mtime:same ctime:changed
changed c mtime,ctime -- unlink c2              => 0 mtime:same ctime:changed
changed c>c3 mtime,ctime -- rename c c3         => 0 mtime:same ctime:changed
changed c3 mtime,ctime -- chmod nope 0600       => ENOENT mtime:same ctime:same
changed . mtime,ctime -- create p1 0644         => 0 mtime:changed ctime:changed
changed . mtime,ctime -- mkdir p2 0755          => 0 mtime:changed ctime:changed
changed . mtime,ctime -- mknod p3 fifo 0644     => 0 mtime:changed ctime:changed
changed . mtime,ctime -- symlink x p4           => 0 mtime:changed ctime:changed
changed . mtime,ctime -- link p1 p5             => 0 mtime:changed ctime:changed
changed . mtime,ctime -- rename p5 p6           => 0 mtime:changed ctime:changed
changed . mtime,ctime -- unlink p6              => 0 mtime:changed ctime:changed
changed . mtime,ctime -- rmdir p2               => 0 mtime:changed ctime:changed
changed . mtime,ctime -- create p1 0644         => EEXIST mtime:same ctime:same
mkdir q 0755                                    => 0
changed q mtime,ctime -- rename p1 q/p1         => 0 mtime:changed ctime:changed
changed . mtime,ctime -- rename q/p1 p1         => 0 mtime:changed ctime:changed
changed q mtime,ctime -- mkdir q/sub 0755       => 0 mtime:changed ctime:changed
changed q/sub>qs mtime,ctime -- rename q/sub qs => 0 mtime:same ctime:changed
changed p1 mtime,ctime -- truncate p1 10        => 0 mtime:changed ctime:changed
changed p1 mtime,ctime -- truncate p1 10       => 0 mtime:same ctime:same
changed p1 mtime,ctime -- ftruncate p1 10
changed p1 mtime,ctime -- ftruncate p1 20      => 0 mtime:changed ctime:changed
changed p1 mtime,ctime -- open p1 O_WRONLY,O_TRUNC  => 0 mtime:changed ctime:changed
changed p1 mtime,ctime -- open p1 O_WRONLY,O_TRUNC
changed p1 mtime,ctime -- write p1 x           => 0 mtime:changed ctime:changed
"

# ---- utimensat -----------------------------------------------------------------
probe "
create u 0644                                   => 0
utimens u 100.123456789 200.987654321           => 0
lstat u atime,mtime                             => 0 100123456789 200987654321
utimens u omit 300.000000001                    => 0
lstat u atime,mtime                             => 0 100123456789 300000000001
utimens u 400.000000005 omit                    => 0
lstat u atime,mtime                             => 0 400000000005 300000000001
utimens u -2.500000000 0.999999999              => 0
lstat u atime,mtime                             => 0 -1500000000 999999999
utimens u 1.1000000000 omit                     => EINVAL
changed u atime,mtime,ctime -- utimens u now omit   => 0 atime:changed mtime:same ctime:changed
changed u atime,mtime,ctime -- utimens u omit now   => 0 atime:same mtime:changed ctime:changed
changed u atime,mtime,ctime -- utimens u now now    => 0 atime:changed mtime:changed ctime:changed
changed u atime,mtime,ctime -- utimens u omit omit
changed u atime,mtime,ctime -- utimens u 5.0 5.0    => 0 atime:changed mtime:changed ctime:changed
as 65534 65534 utimens u now now                => EACCES
as 65534 65534 utimens u 1.0 1.0                => EPERM
chmod u 0666                                    => 0
as 65534 65534 utimens u now now                => 0
as 65534 65534 utimens u 1.0 1.0                => EPERM
as 65534 65534 utimens u omit omit
utimens u 17179869184.5 4294967296.999999999   => 0
lstat u atime,mtime                             => 0 17179869184000000005 4294967296999999999
symlink u ul                                    => 0
lutimens ul 11.000000011 12.000000012           => 0
lstat ul atime,mtime                            => 0 11000000011 12000000012
lstat u mtime                                   => 0 4294967296999999999
utimens u 7.000000007 8.000000008              => 0
"

# ---- chmod, chown and the set-ID bits ---------------------------------------------
probe "
create o 0644                                   => 0
chown o 65534 65534                             => 0
lstat o uid,gid                                 => 0 65534 65534
chown o 4294967294 4294967294                   => 0
lstat o uid,gid                                 => 0 4294967294 4294967294
chown o -1 0                                    => 0
lstat o uid,gid                                 => 0 4294967294 0
chown o 0 0                                     => 0
chmod o 07755                                   => 0
lstat o mode                                    => 0 7755
chown o 1 1                                     => 0
lstat o mode,uid,gid
chmod o 06745                                   => 0
chown o 2 2                                     => 0
lstat o mode
chmod o 06755                                   => 0
chown o -1 -1                                   => 0
lstat o mode
chown o 0 0                                     => 0
mkdir od 0755                                   => 0
chmod od 07755                                  => 0
chown od 1 1                                    => 0
lstat od mode,uid,gid                           => 0 7755 1 1
symlink o ol                                    => 0
lchown ol 3 3                                   => 0
lstat ol uid,gid,mode                           => 0 3 3 777
lstat o uid,gid                                 => 0 0 0
as 65534 65534 chmod o 0777                     => EPERM
as 65534 65534 chown o 65534 65534              => EPERM
chown o 65534 1234                              => 0
chmod o 0755                                    => 0
as 65534 65534 chmod o 02755                    => 0
lstat o mode
as 65534 1234 chmod o 02755                     => 0
lstat o mode                                    => 0 2755
as 65534 65534 chown o 65534 65534              => 0
lstat o mode,uid,gid
as 65534 65534 chown o -1 1234                  => EPERM
create w 0644                                   => 0
chmod w 06777                                   => 0
as 65534 65534 write w hello                    => 0
lstat w mode
cat w                                           => 0 hello
chmod w 06777                                   => 0
write w HELLO                                   => 0
lstat w mode                                    => 0 6777
chmod w 06767                                   => 0
as 65534 65534 write w howdy                    => 0
lstat w mode                                    => 0 767
chown w 0 1234                                  => 0
chmod w 06767                                   => 0
as 65534 65534,1234 write w hallo               => 0
lstat w mode                                    => 0 2767
as 65534 65534 write w hullo                    => 0
lstat w mode                                    => 0 767
chown w 0 1234                                  => 0
chmod w 02767                                   => 0
as 65534 65534,1234 truncate w 2                => 0
lstat w mode                                    => 0 2767
as 65534 65534 utimens w now now                => 0
lstat w mode                                    => 0 2767
as 65534 65534 truncate w 3                     => 0
lstat w mode                                    => 0 767
chmod w 02767                                   => 0
as 65534 65534 truncate w 3                     => 0
lstat w mode
chmod w 02767                                   => 0
as 65534 65534 chown w -1 -1                    => EPERM | 0
lstat w mode                                    => 0 2767 | 0 767
chmod w 02767                                   => 0
chown w -1 -1                                   => 0
lstat w mode                                    => 0 2767
as 65534 65534 ftruncate w 1                    => 0
lstat w mode
mkdir gd 0777                                   => 0
chown gd 0 1234                                 => 0
chmod gd 02777                                  => 0
as 65534 65534 chown gd -1 -1                   => 0
lstat gd mode                                   => 0 2777
create k4 04777                                 => 0
as 65534 65534 writemode k4 x                   => 0 777
lstat k4 mode                                   => 0 777
create k2 02777                                 => 0
as 65534 65534 writemode k2 x                   => 0 777
lstat k2 mode                                   => 0 777
create k6 06777                                 => 0
as 65534 65534 writemode k6 x                   => 0 777
lstat k6 mode                                   => 0 777
create k0 06777                                 => 0
writemode k0 x                                  => 0 6777
create cm 07777                                 => 0
lstat cm mode                                   => 0 7777
mkdir dm 07777                                  => 0
lstat dm mode                                   => 0 1777
mknod fm fifo 07777                             => 0
lstat fm mode                                   => 0 7777
"

# ---- sticky directories and another user's permissions --------------------------------
probe "
mkdir s 01777                                   => 0
lstat s mode                                    => 0 1777
create s/rootf 0666                             => 0
as 65534 65534 create s/mine 0644               => 0
lstat s/mine uid,gid                            => 0 65534 65534
as 65534 65534 unlink s/rootf                   => EPERM
as 65534 65534 rename s/rootf s/x               => EPERM
as 65534 65534 rename s/mine s/mine2            => 0
as 65534 65534 unlink s/mine2                   => 0
as 65533 65533 mkdir s/other 0777               => 0
as 65534 65534 rmdir s/other                    => EPERM
as 65534 65534 write s/rootf hi                 => 0
rmdir s/other                                   => 0
chmod s 0777                                    => 0
as 65534 65534 unlink s/rootf                   => 0
mkdir open1 0777                                => 0
mkdir open2 0777                                => 0
mkdir open1/rd 0755                             => 0
create open1/rf 0644                            => 0
as 65534 65534 rename open1/rd open2/rd         => EACCES
as 65534 65534 rename open1/rd open1/rd2        => 0
as 65534 65534 rename open1/rf open2/rf         => 0
as 65534 65534 unlink open2/rf                  => 0
as 65534 65534 mkdir open2/mine 0755            => 0
as 65534 65534 rename open1/rd2 open2/mine      => EACCES
as 65534 65534 rmdir open1/rd2                  => 0
chmod open2 01777                               => 0
create open2/rootf 0644                         => 0
as 65534 65534 create open1/x 0644              => 0
as 65534 65534 rename open1/x open2/rootf       => EPERM
as 65534 65534 rename open1/x open2/mine2       => 0
mkdir priv 0700                                 => 0
create priv/x 0644                              => 0
as 65534 65534 lstat priv type                  => 0 dir
as 65534 65534 lstat priv/x type                => EACCES
as 65534 65534 ls priv                          => EACCES
as 65534 65534 create priv/y 0644               => EACCES
as 65534 65534 mkdir priv/y 0755                => EACCES
as 65534 65534 unlink priv/x                    => EACCES
chmod priv 0711                                 => 0
as 65534 65534 lstat priv/x type                => 0 reg
as 65534 65534 ls priv                          => EACCES
as 65534 65534 unlink priv/x                    => EACCES
chmod priv 0755                                 => 0
as 65534 65534 ls priv                          => 0 x
create ro 0600                                  => 0
write ro secret                                 => 0
as 65534 65534 cat ro                           => EACCES
as 65534 65534 write ro x                       => EACCES
as 65534 65534 open ro O_RDONLY                 => EACCES
chmod ro 0604                                   => 0
as 65534 65534 cat ro                           => 0 secret
as 65534 65534 truncate ro 0                    => EACCES
as 65534 65534 chmod ro 0777                    => EPERM
"

# ---- setgid directories: the group and the bit are inherited ---------------------------
probe "
mkdir g 0755                                    => 0
chown g 0 1234                                  => 0
chmod g 02775                                   => 0
create g/f 0644                                 => 0
lstat g/f gid,mode                              => 0 1234 644
mkdir g/sub 0755                                => 0
lstat g/sub gid,mode                            => 0 1234 2755
mkdir g/sub/deeper 0700                         => 0
lstat g/sub/deeper gid,mode                     => 0 1234 2700
mknod g/p fifo 0644                             => 0
lstat g/p gid                                   => 0 1234
symlink x g/l                                   => 0
lstat g/l gid                                   => 0 1234
chmod g 02777                                   => 0
as 65534 65534 create g/n 02755                 => 0
lstat g/n mode,uid,gid                          => 0 755 65534 1234
as 65534 65534 mkdir g/nd 0755                  => 0
lstat g/nd mode,uid,gid                         => 0 2755 65534 1234
chmod g 0777                                    => 0
as 65534 65534 create g/m 0644                  => 0
lstat g/m uid,gid                               => 0 65534 65534
"

# ---- mknod of every type ----------------------------------------------------------
probe "
mkdir m 0755                                    => 0
mknod m/fifo fifo 0644                          => 0
lstat m/fifo type,mode,size,nlink               => 0 fifo 644 0 1
mknod m/reg reg 0640                            => 0
lstat m/reg type,mode,size                      => 0 reg 640 0
mknod m/none none 0600                          => 0
lstat m/none type,mode                          => 0 reg 600
mknod m/sock sock 0755                          => 0
lstat m/sock type,mode                          => 0 sock 755
mknod m/null chr 0666 1 3                       => 0
lstat m/null type,mode,rdev,size                => 0 chr 666 1,3 0
mknod m/cmax chr 0600 4095 1048575              => 0
lstat m/cmax type,rdev                          => 0 chr 4095,1048575
mknod m/blk blk 0660 259 65536                  => 0
lstat m/blk type,mode,rdev                      => 0 blk 660 259,65536
mknod m/b0 blk 0660 0 0                         => 0
lstat m/b0 type,rdev                            => 0 blk 0,0
mknod m/null chr 0666 1 3                       => EEXIST
mknod m/null chr 0777 3 4                       => EEXIST
as 65534 65534 mknod m/nc chr 0644 1 2          => EACCES
chmod m 0777                                    => 0
as 65534 65534 mknod m/nc chr 0644 1 2          => EPERM
as 65534 65534 mknod m/nf fifo 0644             => 0
lstat m/nf type,uid,gid                         => 0 fifo 65534 65534
unlink m/nf                                     => 0
chmod m 0755                                    => 0
born m m/bc -- mknod m/bc chr 0755 1 2          => 0 atime:newer mtime:newer ctime:newer
born m m/bb -- mknod m/bb blk 0755 1 2          => 0 atime:newer mtime:newer ctime:newer
born m m/bf -- mkfifo m/bf 0755                 => 0 atime:newer mtime:newer ctime:newer
born m m/bs -- mknod m/bs sock 0755             => 0 atime:newer mtime:newer ctime:newer
born m m/bd -- mkdir m/bd 0755                  => 0 atime:newer mtime:newer ctime:newer
born m m/bo -- open m/bo O_CREAT,O_WRONLY 0644  => 0 atime:newer mtime:newer ctime:newer
born m m/bl -- symlink x m/bl                   => 0 atime:newer mtime:newer ctime:newer
lstat m/bc type,mode,rdev                       => 0 chr 755 1,2
unlink m/bc                                     => 0
unlink m/bb                                     => 0
unlink m/bf                                     => 0
unlink m/bs                                     => 0
rmdir m/bd                                      => 0
unlink m/bo                                     => 0
unlink m/bl                                     => 0
mknod m/nope/x fifo 0644                        => ENOENT
mkfifo m/ff 0600                                => 0
fifo m/ff                                       => 0 through
bind m/so                                       => 0 ping
lstat m/so type                                 => 0 sock
bind m/so                                       => EADDRINUSE
cat m/null                                      => 0
readdir m
link m/fifo m/fifo2                             => 0
lstat m/fifo nlink                              => 0 2
rename m/fifo2 m/fifo3                          => 0
unlink m/fifo3                                  => 0
chmod m/null 0600                               => 0
chown m/null 5 6                                => 0
lstat m/null type,mode,uid,gid,rdev             => 0 chr 600 5 6 1,3
truncate m/ff 0                                 => EINVAL
"

# ---- chown of every type: set-ID bits, group lists, ctime -------------------------------
# mk TYPE NAME / rm TYPE NAME: the probe line that makes / removes one
mk() {
	case $1 in
	reg) echo "create $2 0644" ;; dir) echo "mkdir $2 0755" ;;
	fifo) echo "mknod $2 fifo 0644" ;; sock) echo "mknod $2 sock 0644" ;;
	blk) echo "mknod $2 blk 0644 1 2" ;; chr) echo "mknod $2 chr 0644 1 2" ;;
	esac
}
rm_() { [ "$1" = dir ] && echo "rmdir $2" || echo "unlink $2"; }
for type in reg dir fifo sock blk chr; do
	probe "
$(mk $type y)                                   => 0
chown y 65534 65533                             => 0
chmod y 06555                                   => 0
lstat y mode,uid,gid                            => 0 6555 65534 65533
as 65534 65533,65532 chown y 65534 65532        => 0
lstat y mode,uid,gid
chmod y 06555                                   => 0
as 65534 65533,65532 chown y -1 65533           => 0
lstat y mode,uid,gid
chmod y 06555                                   => 0
as 65534 65533,65532 chown y -1 -1              => 0
lstat y mode,uid,gid
as 65534 65533,65532 chown y -1 65531           => EPERM
symlink y yl                                    => 0
chmod yl 06555                                  => 0
as 65534 65533,65532 chown yl 65534 65532       => 0
lstat y mode,uid,gid
lstat yl uid,gid                                => 0 0 0
as 65534 65532 lchown yl -1 -1                  => 0
unlink yl                                       => 0
chown y 0 0                                     => 0
chmod y 06555                                   => 0
chown y 65532 65531                             => 0
lstat y mode,uid,gid
chown y 0 0                                     => 0
as 65534 65534 chown y -1 -1                    => 0
lstat y uid,gid                                 => 0 0 0
changed y ctime -- as 65534 65534 chown y 65534 -1  => EPERM ctime:same
changed y ctime -- as 65534 65534 chown y -1 65534  => EPERM ctime:same
changed y ctime -- chown y 123 456              => 0 ctime:changed
changed y ctime -- as 123 456 chown y 123 456   => 0 ctime:changed
changed y ctime -- chown y -1 -1                => 0 ctime:changed
$(rm_ $type y)                                  => 0
"
done

# ---- truncate, ftruncate, posix_fallocate ---------------------------------------------
probe "
create big 0644                                 => 0
ftruncate big 1234567                           => 0
lstat big size                                  => 0 1234567
zeros big 1234000 1000                          => 0 567 zeros
ftruncate big 567 O_WRONLY                      => 0
lstat big size                                  => 0 567
unlink big                                      => 0
createdo cf 0 ftruncate 0                       => 0
unlink cf                                       => 0
createdo cf 0 posix_fallocate 1                 => 0
lstat cf size,mode                              => 0 1 0
unlink cf                                       => 0
chmod . 0777                                    => 0
as 65534 65534 createdo cf 0 ftruncate 0        => 0
unlink cf                                       => 0
as 65534 65534 createdo cf 0 posix_fallocate 1  => 0
unlink cf                                       => 0
chmod . 0755                                    => 0
create tr 0644                                  => 0
write tr hello                                  => 0
truncate tr 10000                               => 0
lstat tr size                                   => 0 10000
zeros tr 5 9995                                 => 0 9995 zeros
truncate tr 3                                   => 0
cat tr                                          => 0 hel
truncate tr 700                                 => 0
zeros tr 3 697                                  => 0 697 zeros
ftruncate tr 1                                  => 0
cat tr                                          => 0 h
ftruncate tr 5 O_RDONLY                         => EINVAL
ftruncate tr 2000 O_WRONLY                      => 0
zeros tr 1 1999                                 => 0 1999 zeros
truncate tr -1                                  => EINVAL
truncate emp 0                                  => EISDIR
truncate nope 0                                 => ENOENT
create fa 0644                                  => 0
posix_fallocate fa 0 567                        => 0
lstat fa size                                   => 0 567
zeros fa 0 567                                  => 0 567 zeros
write fa 0123456789                             => 0
posix_fallocate fa 20000 3456                   => 0
lstat fa size                                   => 0 23456
zeros fa 10 23446                               => 0 23446 zeros
posix_fallocate fa 0 100                        => 0
lstat fa size                                   => 0 23456
changed fa ctime -- posix_fallocate fa 0 30000  => 0 ctime:changed
posix_fallocate fa 0 0                          => EINVAL
posix_fallocate fa 0 -1                         => EINVAL
fallocate fa 0 100                              => 0 | ENOTSUP
create ws 0644                                  => 0
writestat ws hello                         => 0 size=5
"

# ---- readdir: ".", "..", d_type --------------------------------------------------------
probe "
readdir m
readdir g
readdir n
readdir .
"

# ---- the same state read from DNS after a remount ---------------------------------------
ino=$(stat -c %i "$MP/m/blk")
check_match "dig: the block device's inode has type=b and rdev" \
	"\"v=1 type=b mode=0660 .* rdev=$(stat -c '%Hr %Lr' "$TP/m/blk" |
		awk '{ printf "%d", $1 * 256 + $2 % 256 + int($2 / 256) * 1048576 }')( |\")" \
	"$(D +short "$ino.i.$Z" TXT)"
check_match "dig: the FIFO's inode has type=p and no rep" \
	'^"v=1 type=p mode=0644 uid=0 gid=0 nlink=1 size=0 mtime=[0-9.]+ ctime=[0-9.]+ atime=[0-9.]+ ver=[0-9]+"$' \
	"$(D +short "$(stat -c %i "$MP/m/fifo").i.$Z" TXT)"
remount -o allow_other,dev,suid
check "mounted again" mounted
probe "
lstat m/null type,mode,uid,gid,rdev             => 0 chr 600 5 6 1,3
lstat m/cmax type,rdev                          => 0 chr 4095,1048575
lstat m/blk type,mode,rdev                      => 0 blk 660 259,65536
lstat m/fifo type,mode,nlink                    => 0 fifo 644 1
lstat m/sock type                               => 0 sock
fifo m/ff                                       => 0 through
readdir m
lstat g/sub/deeper gid,mode                     => 0 1234 2700
lstat g/nd mode,uid,gid                         => 0 2755 65534 1234
lstat o mode,uid,gid
lstat u atime,mtime                             => 0 7000000007 8000000008
lstat n nlink                                   => 0 3
lstat . nlink
lstat sl4095 type,size                          => 0 lnk 4095
readlink sl4095 $t4095                          => 0 4095 same
lstat s mode                                    => 0 777
lstat fa size                                   => 0 30000
zeros fa 10 29990                               => 0 29990 zeros
readdir .
"

fusermount3 -u "$M"
check "fusermount3 -u unmounts" test -z "$(grep " $M fuse" /proc/mounts)"
done_testing
