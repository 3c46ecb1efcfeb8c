/**
 * Text outputs for the project-written Tesla P4 guest fixtures, in the formats the real tools print:
 * dmesg lines carry the NVIDIA driver's own messages (nv-pci.c / nv.c wording, 580.82.07 banner as in
 * the cloud-atlas bhyve logs); the XML follows nvsmi_device_v12.dtd element names and order.
 */
export const QUIRK_MISSING_DMESG = `[    0.000000] Linux version 6.8.0-60-generic (buildd@lcy02-amd64-054) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #63-Ubuntu SMP PREEMPT_DYNAMIC Tue Apr 15 19:04:15 UTC 2025 (Ubuntu 6.8.0-60.63-generic 6.8.12)
[    0.000000] Hypervisor detected: bhyve
[    0.412873] pci 0000:00:06.0: [10de:1bb3] type 00 class 0x030200 conventional PCI endpoint
[    0.413661] pci 0000:00:06.0: BAR 0 [mem 0xc2000000-0xc2ffffff]
[    0.414312] pci 0000:00:06.0: BAR 1 [mem 0x800000000-0x80fffffff 64bit pref]
[    0.414960] pci 0000:00:06.0: BAR 3 [mem 0x810000000-0x811ffffff 64bit pref]
[    3.138804] nvidia: loading out-of-tree module taints kernel.
[    3.138820] nvidia: module license 'NVIDIA' taints kernel.
[    3.138825] nvidia: module license taints kernel.
[    3.171733] nvidia-nvlink: Nvlink Core is being initialized, major device number 239
[    3.171741] NVRM: Can't find an IRQ for your NVIDIA card!
[    3.171743] NVRM: Please check your BIOS settings.
[    3.171744] NVRM: [Plug & Play OS] should be set to NO
[    3.171745] NVRM: [Assign IRQ to VGA] should be set to YES 
[    3.171760] nvidia: probe of 0000:00:06.0 failed with error -1
[    3.171795] NVRM: The NVIDIA probe routine failed for 1 device(s).
[    3.171797] NVRM: None of the NVIDIA devices were initialized.
[    3.172151] nvidia-nvlink: Unregistered Nvlink Core, major device number 239
`;

export const HEALTHY_DMESG = `[    0.000000] Linux version 6.8.0-60-generic (buildd@lcy02-amd64-054) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #63-Ubuntu SMP PREEMPT_DYNAMIC Tue Apr 15 19:04:15 UTC 2025 (Ubuntu 6.8.0-60.63-generic 6.8.12)
[    0.000000] Hypervisor detected: bhyve
[    0.412873] pci 0000:00:06.0: [10de:1bb3] type 00 class 0x030200 conventional PCI endpoint
[    3.138804] nvidia: loading out-of-tree module taints kernel.
[    3.138820] nvidia: module license 'NVIDIA' taints kernel.
[    3.138825] nvidia: module license taints kernel.
[    3.171733] nvidia-nvlink: Nvlink Core is being initialized, major device number 239
[    3.172005] nvidia 0000:00:06.0: can't derive routing for PCI INT A
[    3.172010] nvidia 0000:00:06.0: PCI INT A: no GSI - using ISA IRQ 10
[    3.174422] NVRM: loading NVIDIA UNIX x86_64 Kernel Module  580.82.07  Wed Aug 27 18:39:48 UTC 2025
[    3.190114] nvidia-modeset: Loading NVIDIA Kernel Mode Setting Driver for UNIX platforms  580.82.07  Wed Aug 27 18:05:23 UTC 2025
[    3.196031] [drm] [nvidia-drm] [GPU ID 0x00000006] Loading driver
[    4.212853] [drm] Initialized nvidia-drm 0.0.0 20160202 for 0000:00:06.0 on minor 1
[    4.260188] nvidia_uvm: module uses symbols nvUvmInterfaceDisableAccessCntr from proprietary module nvidia, inheriting taint.
`;

export const NVIDIA_SMI_TABLE = `Tue Sep  9 02:30:00 2025       
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 580.82.07              Driver Version: 580.82.07      CUDA Version: 13.0     |
+-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
|   0  Tesla P4                       Off |   00000000:00:06.0 Off |                    0 |
| N/A   34C    P8              7W /   75W |       0MiB /   7680MiB |      0%      Default |
|                                         |                        |                  N/A |
+-----------------------------------------+------------------------+----------------------+

+-----------------------------------------------------------------------------------------+
| Processes:                                                                              |
|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |
|        ID   ID                                                               Usage      |
|=========================================================================================|
|  No running processes found                                                             |
+-----------------------------------------------------------------------------------------+
`;

export const NVIDIA_SMI_XML = `<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
	<timestamp>Tue Sep  9 02:30:00 2025</timestamp>
	<driver_version>580.82.07</driver_version>
	<cuda_version>13.0</cuda_version>
	<attached_gpus>1</attached_gpus>
	<gpu id="00000000:00:06.0">
		<product_name>Tesla P4</product_name>
		<product_brand>Tesla</product_brand>
		<product_architecture>Pascal</product_architecture>
		<display_mode>Disabled</display_mode>
		<display_active>Disabled</display_active>
		<persistence_mode>Disabled</persistence_mode>
		<addressing_mode>None</addressing_mode>
		<mig_mode>
			<current_mig>N/A</current_mig>
			<pending_mig>N/A</pending_mig>
		</mig_mode>
		<mig_devices>
			None
		</mig_devices>
		<accounting_mode>Disabled</accounting_mode>
		<accounting_mode_buffer_size>4000</accounting_mode_buffer_size>
		<driver_model>
			<current_dm>N/A</current_dm>
			<pending_dm>N/A</pending_dm>
		</driver_model>
		<serial>0324717021234</serial>
		<uuid>GPU-5f1c2a0e-7d3b-4c49-9b1e-2a6f0c8d4e17</uuid>
		<minor_number>0</minor_number>
		<vbios_version>86.04.55.00.01</vbios_version>
		<multigpu_board>No</multigpu_board>
		<board_id>0x30</board_id>
		<board_part_number>900-2G414-0000-000</board_part_number>
		<gpu_part_number>1BB3-895-A1</gpu_part_number>
		<gpu_fru_part_number>N/A</gpu_fru_part_number>
		<gpu_module_id>1</gpu_module_id>
		<inforom_version>
			<img_version>G414.0200.00.03</img_version>
			<oem_object>1.1</oem_object>
			<ecc_object>4.1</ecc_object>
			<pwr_object>N/A</pwr_object>
		</inforom_version>
		<gpu_operation_mode>
			<current_gom>N/A</current_gom>
			<pending_gom>N/A</pending_gom>
		</gpu_operation_mode>
		<gsp_firmware_version>N/A</gsp_firmware_version>
		<gpu_virtualization_mode>
			<virtualization_mode>Pass-Through</virtualization_mode>
			<host_vgpu_mode>N/A</host_vgpu_mode>
			<vgpu_heterogeneous_mode>N/A</vgpu_heterogeneous_mode>
		</gpu_virtualization_mode>
		<gpu_reset_status>
			<reset_required>No</reset_required>
			<drain_and_reset_recommended>N/A</drain_and_reset_recommended>
		</gpu_reset_status>
		<pci>
			<pci_bus>00</pci_bus>
			<pci_device>06</pci_device>
			<pci_domain>0000</pci_domain>
			<pci_base_class>3</pci_base_class>
			<pci_sub_class>2</pci_sub_class>
			<pci_device_id>1BB310DE</pci_device_id>
			<pci_bus_id>00000000:00:06.0</pci_bus_id>
			<pci_sub_system_id>11D810DE</pci_sub_system_id>
			<pci_gpu_link_info>
				<pcie_gen>
					<max_link_gen>3</max_link_gen>
					<current_link_gen>1</current_link_gen>
					<device_current_link_gen>1</device_current_link_gen>
					<max_device_link_gen>3</max_device_link_gen>
					<max_host_link_gen>3</max_host_link_gen>
				</pcie_gen>
				<link_widths>
					<max_link_width>16x</max_link_width>
					<current_link_width>16x</current_link_width>
				</link_widths>
			</pci_gpu_link_info>
			<pci_bridge_chip>
				<bridge_chip_type>N/A</bridge_chip_type>
				<bridge_chip_fw>N/A</bridge_chip_fw>
			</pci_bridge_chip>
			<replay_counter>0</replay_counter>
			<replay_rollover_counter>0</replay_rollover_counter>
			<tx_util>0 KB/s</tx_util>
			<rx_util>0 KB/s</rx_util>
			<atomic_caps_outbound>N/A</atomic_caps_outbound>
			<atomic_caps_inbound>N/A</atomic_caps_inbound>
		</pci>
		<fan_speed>N/A</fan_speed>
		<performance_state>P8</performance_state>
		<fb_memory_usage>
			<total>7680 MiB</total>
			<reserved>106 MiB</reserved>
			<used>0 MiB</used>
			<free>7574 MiB</free>
		</fb_memory_usage>
		<bar1_memory_usage>
			<total>256 MiB</total>
			<used>2 MiB</used>
			<free>254 MiB</free>
		</bar1_memory_usage>
		<cc_protected_memory_usage>
			<total>0 MiB</total>
			<used>0 MiB</used>
			<free>0 MiB</free>
		</cc_protected_memory_usage>
		<compute_mode>Default</compute_mode>
		<utilization>
			<gpu_util>0 %</gpu_util>
			<memory_util>0 %</memory_util>
			<encoder_util>0 %</encoder_util>
			<decoder_util>0 %</decoder_util>
			<jpeg_util>N/A</jpeg_util>
			<ofa_util>N/A</ofa_util>
		</utilization>
		<ecc_mode>
			<current_ecc>Enabled</current_ecc>
			<pending_ecc>Enabled</pending_ecc>
		</ecc_mode>
		<temperature>
			<gpu_temp>34 C</gpu_temp>
			<gpu_temp_max_threshold>94 C</gpu_temp_max_threshold>
			<gpu_temp_slow_threshold>91 C</gpu_temp_slow_threshold>
			<gpu_temp_max_gpu_threshold>N/A</gpu_temp_max_gpu_threshold>
			<gpu_target_temperature>N/A</gpu_target_temperature>
			<memory_temp>N/A</memory_temp>
			<gpu_temp_max_mem_threshold>N/A</gpu_temp_max_mem_threshold>
		</temperature>
		<gpu_power_readings>
			<power_state>P8</power_state>
			<average_power_draw>N/A</average_power_draw>
			<instant_power_draw>7.08 W</instant_power_draw>
			<current_power_limit>75.00 W</current_power_limit>
			<requested_power_limit>75.00 W</requested_power_limit>
			<default_power_limit>75.00 W</default_power_limit>
			<min_power_limit>60.00 W</min_power_limit>
			<max_power_limit>75.00 W</max_power_limit>
		</gpu_power_readings>
		<clocks>
			<graphics_clock>455 MHz</graphics_clock>
			<sm_clock>455 MHz</sm_clock>
			<mem_clock>405 MHz</mem_clock>
			<video_clock>620 MHz</video_clock>
		</clocks>
		<max_clocks>
			<graphics_clock>1531 MHz</graphics_clock>
			<sm_clock>1531 MHz</sm_clock>
			<mem_clock>3003 MHz</mem_clock>
			<video_clock>1379 MHz</video_clock>
		</max_clocks>
		<processes>
		</processes>
		<accounted_processes>
		</accounted_processes>
	</gpu>

</nvidia_smi_log>
`;
