# What `cmake --install` puts where (docs/install.md). Everything below the
# prefix is relocatable: `cmake --install build --prefix /usr` (the Debian
# packages do this) needs no reconfigure, because
#   - pibuild finds the client programs relative to itself
#     (<prefix>/bin/pibuild -> <prefix>/lib/pibuild/<arch>/pib-init), and
#   - the systemd unit is written at install time with the install's prefix.
# The config directory is /etc/netbootd whatever the prefix: it is where
# netbootd and pibuild look by default, as /etc/dnsmasq.conf is for dnsmasq.
include(GNUInstallDirs)

# Always <prefix>/lib/pibuild (not the multiarch libdir): pibuild looks
# exactly there, relative to itself, for both architectures.
set(PIB_CLIENT_INSTALL_DIR lib/pibuild)

install(TARGETS pibuild RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS netbootd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(PROGRAMS $<TARGET_FILE:pib-init> $<TARGET_FILE:pib-agent> DESTINATION ${PIB_CLIENT_INSTALL_DIR}/amd64)
if(TARGET pib-init-arm64)
  install(PROGRAMS ${PROJECT_BINARY_DIR}/client-arm64/pib-init ${PROJECT_BINARY_DIR}/client-arm64/pib-agent
          DESTINATION ${PIB_CLIENT_INSTALL_DIR}/arm64)
else()
  message(WARNING "cmake --install will not install the arm64 pib-init/pib-agent: "
                  "g++-aarch64-linux-gnu and libssl-dev:arm64 are missing (./run deps)")
endif()

# systemd: the unit (with this install's sbin directory), the system user and
# the state directories. systemd reads units, sysusers.d and tmpfiles.d from
# /usr/lib and /usr/local/lib alike.
set(PIB_UNIT_TEMPLATE ${PROJECT_SOURCE_DIR}/netbootd/netbootd.service.in)
install(CODE "
  set(SBINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\")
  configure_file(\"${PIB_UNIT_TEMPLATE}\" \"${PROJECT_BINARY_DIR}/install/netbootd.service\" @ONLY)
  file(INSTALL \"${PROJECT_BINARY_DIR}/install/netbootd.service\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
")
install(FILES netbootd/netbootd.sysusers DESTINATION lib/sysusers.d RENAME netbootd.conf)
install(FILES netbootd/netbootd.tmpfiles DESTINATION lib/tmpfiles.d RENAME netbootd.conf)

# The default config, only where there is none yet (an admin's edits are
# never overwritten; the Debian package makes it a conffile instead).
install(CODE "
  set(conf \"\$ENV{DESTDIR}/etc/netbootd/netbootd.yaml\")
  if(EXISTS \"\${conf}\")
    message(STATUS \"Keeping: \${conf}\")
  else()
    # file(INSTALL) puts DESTDIR in front of an absolute DESTINATION itself.
    file(INSTALL \"${PROJECT_SOURCE_DIR}/netbootd/netbootd.yaml\" DESTINATION /etc/netbootd
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
")

# Documentation, man pages (generated, docs/man/) and bash completion.
file(GLOB PIB_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PIB_DOCS} README.md LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY recipes/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/recipes)
foreach(section 1 5 8)
  file(GLOB pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/man/*.${section})
  if(pages)
    install(FILES ${pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endif()
endforeach()
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/completion/pibuild.bash)
  install(FILES docs/completion/pibuild.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME pibuild)
endif()
