# Part of `cmake --install` (the install rules at the end of CMakeLists.txt set the inputs):
# the example configuration goes to SYSCONFDIR/steer unless a steerd.json is already there
# (an operator's configuration is never touched, nor completed with example pools), and
# the systemd unit to the unit folder, both with the paths of the install prefix.
# Inputs: STEER_SRC, STEER_GEN (scratch folder), STEER_BINDIR, STEER_SYSCONFDIR,
# STEER_UNITDIR, STEER_STATE_DIR; CMAKE_INSTALL_PREFIX and $DESTDIR as cmake sets them.

function(steer_full out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

steer_full(steer_bindir "${STEER_BINDIR}")
steer_full(steer_unitdir "${STEER_UNITDIR}")
if(STEER_SYSCONFDIR STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(steer_etcdir "/etc") # as GNUInstallDirs has it: /usr is configured in /etc
else()
  steer_full(steer_etcdir "${STEER_SYSCONFDIR}")
endif()

# state.path: relative paths resolve against the configuration's folder, which a service
# cannot write (ProtectSystem=strict); the database goes to the unit's StateDirectory
file(READ "${STEER_SRC}/steerd.json" steer_json)
set(steer_from "\"state\": {\"path\": \"steerd.db\"}")
string(FIND "${steer_json}" "${steer_from}" steer_at)
if(steer_at LESS 0)
  message(FATAL_ERROR "steerd.json: no ${steer_from} to point at ${STEER_STATE_DIR}")
endif()
string(REPLACE "${steer_from}" "\"state\": {\"path\": \"${STEER_STATE_DIR}/steerd.db\"}"
  steer_json "${steer_json}")
file(WRITE "${STEER_GEN}/steerd.json" "${steer_json}")

if(EXISTS "$ENV{DESTDIR}${steer_etcdir}/steer/steerd.json")
  message(STATUS "Keeping: $ENV{DESTDIR}${steer_etcdir}/steer (steerd.json exists)")
else()
  file(INSTALL "${STEER_GEN}/steerd.json" DESTINATION "${steer_etcdir}/steer"
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  file(INSTALL "${STEER_SRC}/pools" "${STEER_SRC}/monitors" DESTINATION "${steer_etcdir}/steer"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES_MATCHING PATTERN "*.json")
endif()

file(READ "${STEER_SRC}/scripts/steerd.service" steer_unit)
string(REPLACE "/usr/bin/" "${steer_bindir}/" steer_unit "${steer_unit}")
string(REPLACE "/etc/steer/" "${steer_etcdir}/steer/" steer_unit "${steer_unit}")
file(WRITE "${STEER_GEN}/steerd.service" "${steer_unit}")
file(INSTALL "${STEER_GEN}/steerd.service" DESTINATION "${steer_unitdir}"
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
